// Rule lookup structures of one rule table, rebuilt whenever its rules change (control plane):
// a numeric prefilter per rule and an index that files each rule under one field it requires
// (destination or source address prefix, destination or source port, protocol), so a lookup
// visits only the buckets the packet's fields select plus the rules no field could index.
//
// Correctness rests on one invariant: a rule filed under field F with keys K can only match a
// packet whose F value maps to a key in K. Every candidate is still checked by its full matcher,
// so buckets may be supersets (hash collisions just merge lists); lists hold ranks (positions in
// evaluation order) ascending, and the lowest matching rank over all visited lists is the answer.

import type { HeaderLevel } from "../packet/meta.ts";
import type { Packet } from "./packet.ts";
import { type ActionMeta, type Predicate, ruleCidr } from "./predicate.ts";
import { maskWord } from "../packet/addr.ts";
import { i32 } from "../packet/bytes.ts";
import { IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import { IPV6_SRC } from "../packet/ipv6.ts";
import type { Rule } from "./rule.ts";

/** Per-rule prefilter words: [dstMask, dstAddr, srcMask, srcAddr, dLo, dHi, sLo, sHi]. */
export const PF_STRIDE = 8;

/**
 * Per-rule numeric constraints implied by a rule's top-level predicates, laid out for one linear
 * scan: [dstMask, dstAddr, srcMask, srcAddr, dportLo, dportHi, sportLo, sportHi] per rule (IPv4
 * words as i32; a packet without ports carries port -1, which only an unconstrained lo of -1
 * admits), plus family << 16 | protocol (0 / 0xffff = any).
 */
export class Prefilter {
  readonly w: Int32Array;
  readonly famProto: Int32Array;

  constructor(rules: readonly Rule[]) {
    const n = rules.length;
    this.w = new Int32Array(n * PF_STRIDE);
    this.famProto = new Int32Array(n).fill(0xffff);
    rules.forEach((r, i) => {
      const b = i * PF_STRIDE;
      this.w[b + 4] = -1;
      this.w[b + 5] = 65535;
      this.w[b + 6] = -1;
      this.w[b + 7] = 65535;
      for (const p of r.spec.predicates ?? []) this.add(i, b, p);
    });
  }

  private setFam(i: number, v: number): void {
    this.famProto[i] = (v << 16) | (this.famProto[i] & 0xffff);
  }

  private add(i: number, b: number, p: Predicate): void {
    const w = this.w;
    switch (p.kind) {
      case "ipVersion":
        this.setFam(i, p.version);
        break;
      case "ipProto":
        if (p.values.length === 1) this.famProto[i] = (this.famProto[i] & ~0xffff) | p.values[0];
        break;
      case "dstPort":
      case "srcPort": {
        if (p.ports.length !== 1) break;
        const x = p.ports[0];
        const [lo, hi] = typeof x === "number" ? [x, x] : x;
        const at = b + (p.kind === "dstPort" ? 4 : 6);
        w[at] = lo;
        w[at + 1] = hi;
        break;
      }
      case "ipSrc":
      case "ipDst": {
        if (p.cidrs.length !== 1) break;
        const c = ruleCidr(p.cidrs[0]);
        if (c.af !== 4) {
          this.setFam(i, 6);
          break;
        }
        this.setFam(i, 4);
        const at = b + (p.kind === "ipDst" ? 0 : 2);
        w[at] = maskWord(c.len, 0) | 0;
        w[at + 1] = c.words[0] | 0;
        break;
      }
    }
  }
}

// Index fields. Address fields come per family because a CIDR only matches its own family.
const F_DST4 = 0, F_SRC4 = 1, F_DST6 = 2, F_SRC6 = 3, F_DPORT = 4, F_SPORT = 5, F_PROTO = 6;
const N_FIELDS = 7;
/** A port predicate expanding to more keys than this is not indexed (e.g. 1024-65535). */
const MAX_PORT_KEYS = 1024;

/** A 30-bit mix of up to four words (a small integer: Map keys stay unboxed). */
export function mixWords(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x27d4eb2f);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** The rules of one prefix length of an address field, by hash of the masked address. */
export class AddrGroup {
  readonly map = new Map<number, Int32Array>();
  constructor(readonly len: number, readonly mask: Uint32Array) {}
}

/** Keys of one rule for one field: address keys carry their prefix length. */
interface Keys {
  field: number;
  /** [prefixLen, key] pairs for address fields, plain keys otherwise. */
  keys: number[];
}

function addrKeys(cidrs: readonly string[], dst: boolean, out: Keys[]): void {
  const k4: number[] = [], k6: number[] = [];
  for (const s of cidrs) {
    const c = ruleCidr(s);
    const a = c.words;
    if (c.af === 4) k4.push(c.len, mixWords(a[0], 0, 0, 0));
    else k6.push(c.len, mixWords(a[0], a[1], a[2], a[3]));
  }
  // A rule listing CIDRs of one family only can match only that family.
  if (k6.length === 0) out.push({ field: dst ? F_DST4 : F_SRC4, keys: k4 });
  if (k4.length === 0) out.push({ field: dst ? F_DST6 : F_SRC6, keys: k6 });
}

function portKeys(ports: readonly (number | readonly [number, number])[]): number[] | null {
  const keys: number[] = [];
  for (const x of ports) {
    const [lo, hi] = typeof x === "number" ? [x, x] : x;
    if (hi - lo + 1 + keys.length > MAX_PORT_KEYS) return null;
    for (let v = lo; v <= hi; v++) keys.push(v);
  }
  return keys;
}

/** Every way a rule could be filed: one entry per field its top-level conjunction requires. */
function indexable(preds: readonly Predicate[], out: Keys[] = []): Keys[] {
  for (const p of preds) {
    switch (p.kind) {
      case "all":
        indexable(p.preds, out);
        break;
      case "ipDst":
      case "ipSrc":
        addrKeys(p.cidrs, p.kind === "ipDst", out);
        break;
      case "dstPort":
      case "srcPort": {
        const keys = portKeys(p.ports);
        if (keys) out.push({ field: p.kind === "dstPort" ? F_DPORT : F_SPORT, keys });
        break;
      }
      case "ipProto":
        out.push({ field: F_PROTO, keys: [...p.values] });
        break;
    }
  }
  return out;
}

function countKey(m: Map<number, number>, k: number): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/**
 * The lookup structure of one rule table. Each rule is filed under the field where the rules
 * sharing its keys are fewest (a set of distinct /32 destinations files by address, one of many
 * rules per port by port); a rule with no field narrower than the whole set stays in `wild`.
 * Tables shorter than `indexMin` are scanned linearly (cheaper than hashing for a few rules).
 */
export class RuleIndex {
  readonly pf: Prefilter;
  /** True when lookups use the buckets; false: a linear scan with the prefilter. */
  readonly indexed: boolean;
  /** Ranks checked for every packet. */
  wild = new Int32Array(0);
  /** Address groups per address field (F_DST4, F_SRC4, F_DST6, F_SRC6), longest prefix first. */
  readonly addr: AddrGroup[][] = [[], [], [], []];
  /** Port and protocol buckets. */
  readonly dport = new Map<number, Int32Array>();
  readonly sport = new Map<number, Int32Array>();
  readonly proto = new Map<number, Int32Array>();
  // The packet being looked up, as the prefilter reads it (fields, not arguments: no boxing).
  private readonly a = new Uint32Array(8);
  private fam = 0;
  private proto_ = 0;
  private sp = -1;
  private dp = -1;

  constructor(readonly rules: readonly Rule[], indexMin: number) {
    this.pf = new Prefilter(rules);
    this.indexed = rules.length >= indexMin;
    if (this.indexed) this.build();
  }

  private build(): void {
    const rules = this.rules, n = rules.length;
    const cands = rules.map((r) => indexable(r.spec.predicates ?? []));
    // How many rules share each key, per field (an address key includes its prefix length).
    const counts: Map<number, number>[] = Array.from({ length: N_FIELDS }, () => new Map());
    const step = (f: number) => f <= F_SRC6 ? 2 : 1;
    const ck = (f: number, keys: number[], i: number) =>
      f <= F_SRC6 ? keys[i] * 0x40000000 + keys[i + 1] : keys[i];
    for (const cs of cands) {
      for (const c of cs) {
        for (let i = 0; i < c.keys.length; i += step(c.field)) {
          countKey(counts[c.field], ck(c.field, c.keys, i));
        }
      }
    }
    const wild: number[] = [];
    const lists: Map<number, number[]>[] = Array.from({ length: N_FIELDS }, () => new Map());
    const groups: Map<number, AddrGroup>[] = [new Map(), new Map(), new Map(), new Map()];
    const glists = new Map<AddrGroup, Map<number, number[]>>();
    for (let r = 0; r < n; r++) {
      // Cost of a filing: the rules a packet hitting one of its keys would visit (summed).
      let best: Keys | null = null, bestCost = n;
      for (const c of cands[r]) {
        let cost = 0;
        for (let i = 0; i < c.keys.length; i += step(c.field)) {
          cost += counts[c.field].get(ck(c.field, c.keys, i))!;
        }
        if (cost < bestCost) {
          best = c;
          bestCost = cost;
        }
      }
      if (best === null) {
        wild.push(r);
        continue;
      }
      const f = best.field;
      if (f <= F_SRC6) {
        for (let i = 0; i < best.keys.length; i += 2) {
          const len = best.keys[i];
          let g = groups[f].get(len);
          if (!g) {
            groups[f].set(len, g = new AddrGroup(len, prefixMask(len, f >= F_DST6)));
            glists.set(g, new Map());
          }
          push(glists.get(g)!, best.keys[i + 1], r);
        }
      } else {
        for (const k of best.keys) push(lists[f], k, r);
      }
    }
    this.wild = Int32Array.from(wild);
    for (let f = 0; f <= F_SRC6; f++) {
      this.addr[f] = [...groups[f].values()].sort((a, b) => b.len - a.len);
      for (const g of this.addr[f]) freeze(glists.get(g)!, g.map);
    }
    freeze(lists[F_DPORT], this.dport);
    freeze(lists[F_SPORT], this.sport);
    freeze(lists[F_PROTO], this.proto);
  }

  /** The first rule (in evaluation order) whose predicates all hold, or null. */
  find(pkt: Packet, am: ActionMeta): Rule | null {
    const lv = pkt.meta.flow;
    const fam = lv.ipVersion;
    this.fam = fam;
    this.proto_ = lv.proto;
    const ports = lv.l4 >= 0 && lv.icmpType < 0;
    this.sp = ports ? lv.srcPort : -1;
    this.dp = ports ? lv.dstPort : -1;
    const a = this.a;
    const ip = fam === 4 || fam === 6;
    if (ip) readAddrs(pkt.buf, lv, a);
    else a.fill(0);
    const n = this.rules.length;
    if (!this.indexed) {
      for (let i = 0; i < n; i++) if (this.test(i, pkt, am)) return this.rules[i];
      return null;
    }
    let best = this.scan(this.wild, n, pkt, am);
    if (ip) {
      const v4 = fam === 4;
      best = this.scanAddr(this.addr[v4 ? F_DST4 : F_DST6], 4, best, pkt, am);
      best = this.scanAddr(this.addr[v4 ? F_SRC4 : F_SRC6], 0, best, pkt, am);
      if (this.dport.size !== 0 && ports) best = this.scanMap(this.dport, this.dp, best, pkt, am);
      if (this.sport.size !== 0 && ports) best = this.scanMap(this.sport, this.sp, best, pkt, am);
      if (this.proto.size !== 0) best = this.scanMap(this.proto, lv.proto, best, pkt, am);
    }
    return best < n ? this.rules[best] : null;
  }

  private scanAddr(gs: AddrGroup[], at: number, best: number, pkt: Packet, am: ActionMeta) {
    for (let j = 0; j < gs.length; j++) {
      const l = gs[j].map.get(maskedKey(gs[j], this.a, at));
      if (l !== undefined) best = this.scan(l, best, pkt, am);
    }
    return best;
  }

  private scanMap(
    m: Map<number, Int32Array>,
    k: number,
    best: number,
    pkt: Packet,
    am: ActionMeta,
  ) {
    const l = m.get(k);
    return l === undefined ? best : this.scan(l, best, pkt, am);
  }

  /** The lowest rank in `l` below `best` whose rule matches, else `best`. */
  private scan(l: Int32Array, best: number, pkt: Packet, am: ActionMeta): number {
    for (let j = 0; j < l.length; j++) {
      const i = l[j];
      if (i >= best) break;
      if (this.test(i, pkt, am)) return i;
    }
    return best;
  }

  /** Prefilter, then the full matcher, of the rule at rank `i`. */
  private test(i: number, pkt: Packet, am: ActionMeta): boolean {
    const pf = this.pf.w, b = i * PF_STRIDE;
    const d4 = this.fam === 4 ? this.a[4] | 0 : 0, s4 = this.fam === 4 ? this.a[0] | 0 : 0;
    if ((d4 & pf[b]) !== pf[b + 1] || (s4 & pf[b + 2]) !== pf[b + 3]) return false;
    const dp = this.dp, sp = this.sp;
    if (dp < pf[b + 4] || dp > pf[b + 5] || sp < pf[b + 6] || sp > pf[b + 7]) return false;
    const x = this.pf.famProto[i], f = x >>> 16, p = x & 0xffff;
    if ((f !== 0 && f !== this.fam) || (p !== 0xffff && p !== this.proto_)) return false;
    return this.rules[i].match(pkt, am);
  }

  /** Ranks a lookup for `lv` would visit (sorted, distinct): for tests and dumps. */
  candidates(buf: Uint8Array, lv: HeaderLevel): number[] {
    if (!this.indexed) return this.rules.map((_, i) => i);
    const out = new Set<number>(this.wild);
    const add = (l: Int32Array | undefined) => l?.forEach((r) => out.add(r));
    const fam = lv.ipVersion;
    if (fam === 4 || fam === 6) {
      const w = new Uint32Array(8);
      readAddrs(buf, lv, w);
      for (const dst of [true, false]) {
        const gs = this.addr[fam === 4 ? (dst ? F_DST4 : F_SRC4) : (dst ? F_DST6 : F_SRC6)];
        for (const g of gs) add(g.map.get(maskedKey(g, w, dst ? 4 : 0)));
      }
      add(this.proto.get(lv.proto));
      if (lv.l4 >= 0 && lv.icmpType < 0) {
        add(this.dport.get(lv.dstPort));
        add(this.sport.get(lv.srcPort));
      }
    }
    return [...out].sort((a, b) => a - b);
  }
}

function push(m: Map<number, number[]>, k: number, r: number): void {
  const l = m.get(k);
  if (l) {
    if (l[l.length - 1] !== r) l.push(r);
  } else m.set(k, [r]);
}

function freeze(from: Map<number, number[]>, to: Map<number, Int32Array>): void {
  for (const [k, l] of from) to.set(k, Int32Array.from(l));
}

function prefixMask(len: number, v6: boolean): Uint32Array {
  const m = new Uint32Array(4);
  const words = v6 ? 4 : 1;
  for (let i = 0; i < words; i++) {
    const left = Math.max(0, Math.min(32, len - 32 * i));
    m[i] = left === 0 ? 0 : (0xffffffff << (32 - left)) >>> 0;
  }
  return m;
}

/** The bucket key of the address at `w[at..at+4)` (IPv4: word `at` only) under `g`'s mask. */
export function maskedKey(g: AddrGroup, w: Uint32Array, at: number): number {
  const m = g.mask;
  // Int32 words on purpose: the mix only XORs them, and unsigned values above 2^31 would box.
  return mixWords(w[at] & m[0], w[at + 1] & m[1], w[at + 2] & m[2], w[at + 3] & m[3]);
}

/** Reads the source (words 0..3) and destination (4..7) address of `lv` into `w`. */
export function readAddrs(buf: Uint8Array, lv: HeaderLevel, w: Uint32Array): void {
  const o = lv.l3;
  if (lv.ipVersion === 4) {
    w[0] = i32(buf, o + IPV4_SRC);
    w[4] = i32(buf, o + IPV4_DST);
    w[1] =
      w[2] =
      w[3] =
      w[5] =
      w[6] =
      w[7] =
        0;
    return;
  }
  for (let i = 0; i < 8; i++) {
    w[i] = i32(buf, o + IPV6_SRC + 4 * i);
  }
}
