// V2P (virtual → physical) and V2B (virtual → boundary) mappings, shared by every port of a
// sled. Both keep a generation that bumps on every change, and stamp each entry with the
// generation that last changed it, so a flow entry built at generation G can ask "did what I
// used change since G?" with one lookup instead of being flushed wholesale.

import { ipToString, macToString, parseIp, parseIpv6, parseMac } from "../packet/bytes.ts";
import {
  addrWordsInto,
  type Cidr,
  cidrToString,
  frameAddrWords,
  maskWord,
  parseCidr,
  wordsToBytes,
} from "../packet/addr.ts";
import { SlotAllocator, WordTable } from "./wordtable.ts";
import { InvalidField } from "../contract/field_error.ts";

/** The VNI of boundary services, used when a V2B endpoint names none. */
export const BOUNDARY_VNI = 99;

/** One V2P entry in text form (the dump and API shape). */
export interface V2PEntry {
  vni: number;
  ip: string;
  mac: string;
  underlay: string;
}

/** The physical location of a virtual address: guest MAC and the sled's underlay address. */
export class V2P {
  /** Bumps on every change. */
  generation = 0;
  /** Per-VNI change counters handed out by `watch` (a port looks at its own VNI only). */
  readonly #watches = new Map<number, { gen: number }>();
  /** Mappings per VNI, so `vniOf` probes only VNIs that have any. */
  readonly #perVni = new Map<number, number>();
  readonly #table = new WordTable(5, 1024);
  readonly #slots = new SlotAllocator();
  #macs = new Uint8Array(1024 * 6);
  #underlay = new Uint8Array(1024 * 16);
  #stamps = new Uint32Array(1024);
  readonly #key = new Uint32Array(5);

  /** Number of mappings. */
  get size(): number {
    return this.#table.size;
  }

  #fillKey(vni: number, af: number, w: Uint32Array, at: number): Uint32Array {
    const k = this.#key;
    k[0] = ((af << 24) | (vni & 0xffffff)) >>> 0;
    k[1] = w[at];
    k[2] = af === 4 ? 0 : w[at + 1];
    k[3] = af === 4 ? 0 : w[at + 2];
    k[4] = af === 4 ? 0 : w[at + 3];
    return k;
  }

  #keyFromText(vni: number, ip: string): Uint32Array {
    const b = parseIp(ip);
    if (!b) throw new InvalidField("v2p.ip", `"${ip}" is not an IP address`);
    if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) {
      throw new InvalidField("v2p.vni", `${vni} is not a VNI (expected 0-16777215)`);
    }
    const w = new Uint32Array(4);
    addrWordsInto(b, w);
    return this.#fillKey(vni, b.length === 4 ? 4 : 6, w, 0);
  }

  /** Maps (vni, ip) to the guest MAC and the underlay IPv6 of its sled. Control path. */
  set(vni: number, ip: string, mac: string, underlay: string): void {
    const m = parseMac(mac), u = parseIpv6(underlay);
    if (!m) throw new InvalidField("v2p.mac", `"${mac}" is not a MAC address`);
    if (!u) throw new InvalidField("v2p.underlay", `"${underlay}" is not an IPv6 address`);
    this.setBytes(vni, ip, m, u);
  }

  /** `set` with MAC and underlay address as bytes. */
  setBytes(vni: number, ip: string, mac: Uint8Array, underlay: Uint8Array): void {
    const k = this.#keyFromText(vni, ip);
    let slot = this.#table.get(k, 0);
    if (slot >= 0) {
      let same = true;
      for (let i = 0; i < 6 && same; i++) same = this.#macs[slot * 6 + i] === mac[i];
      for (let i = 0; i < 16 && same; i++) same = this.#underlay[slot * 16 + i] === underlay[i];
      if (same) return;
    } else {
      slot = this.#slots.alloc();
      this.#ensure(slot + 1);
      this.#table.set(k, 0, slot);
      this.#perVni.set(vni, (this.#perVni.get(vni) ?? 0) + 1);
    }
    this.#macs.set(mac.subarray(0, 6), slot * 6);
    this.#underlay.set(underlay.subarray(0, 16), slot * 16);
    this.#stamps[slot] = ++this.generation;
    this.#touch(vni);
  }

  /** Removes a mapping; false when there was none. */
  clear(vni: number, ip: string): boolean {
    const slot = this.#table.delete(this.#keyFromText(vni, ip), 0);
    if (slot < 0) return false;
    this.#slots.release(slot);
    const n = (this.#perVni.get(vni) ?? 1) - 1;
    if (n > 0) this.#perVni.set(vni, n);
    else this.#perVni.delete(vni);
    this.generation++;
    this.#touch(vni);
    return true;
  }

  /** Removes every mapping. */
  clearAll(): void {
    this.#table.clear();
    this.#slots.reset();
    this.#perVni.clear();
    this.generation++;
    for (const w of this.#watches.values()) w.gen = this.generation;
  }

  /**
   * A counter that changes whenever a mapping of `vni` changes: reading `.gen` is the per-packet
   * check, so churn in other VPCs costs a port nothing.
   */
  watch(vni: number): { readonly gen: number } {
    let w = this.#watches.get(vni);
    if (!w) this.#watches.set(vni, w = { gen: this.generation });
    return w;
  }

  #touch(vni: number): void {
    const w = this.#watches.get(vni);
    if (w) w.gen = this.generation;
  }

  /** Fast-path lookup by address words (IPv4 in word 0): an entry handle, or -1. */
  lookup(vni: number, af: number, w: Uint32Array, at = 0): number {
    return this.#table.get(this.#fillKey(vni, af, w, at), 0);
  }

  /**
   * The VNI whose V2P holds this address (`prefer` first), or -1: upstream's `ip_to_vni`, which
   * tags outbound traffic for the firewall's `vni=` filters. The control plane keeps peered VPCs'
   * addresses apart, so at most one VNI should match. Slow path (one probe per VNI).
   */
  vniOf(af: number, w: Uint32Array, at: number, prefer: number): number {
    if (this.lookup(prefer, af, w, at) >= 0) return prefer;
    for (const vni of this.#perVni.keys()) {
      if (vni !== prefer && this.lookup(vni, af, w, at) >= 0) return vni;
    }
    return -1;
  }

  /** Fast-path lookup reading the address straight from a frame at `off`. */
  lookupFrame(vni: number, af: number, buf: Uint8Array, off: number): number {
    const k = this.#key;
    k[0] = ((af << 24) | (vni & 0xffffff)) >>> 0;
    frameAddrWords(buf, off, af, k, 1);
    return this.#table.get(k, 0);
  }

  /** Copies the entry's guest MAC into `out` at `off`. */
  copyMac(entry: number, out: Uint8Array, off: number): void {
    out.set(this.#macs.subarray(entry * 6, entry * 6 + 6), off);
  }

  /** Copies the entry's underlay IPv6 into `out` at `off`. */
  copyUnderlay(entry: number, out: Uint8Array, off: number): void {
    out.set(this.#underlay.subarray(entry * 16, entry * 16 + 16), off);
  }

  /** The generation that last changed the entry. */
  stamp(entry: number): number {
    return this.#stamps[entry];
  }

  /** True when the mapping for this key is the same as it was at generation `since`. */
  unchangedSince(since: number, vni: number, af: number, w: Uint32Array, at = 0): boolean {
    if (this.generation === since) return true;
    const e = this.lookup(vni, af, w, at);
    return e >= 0 && this.#stamps[e] <= since;
  }

  /** Every mapping, as text. */
  dump(): V2PEntry[] {
    const out: V2PEntry[] = [];
    this.#table.forEach((k, at, slot) => {
      const af = k[at] >>> 24;
      out.push({
        vni: k[at] & 0xffffff,
        ip: ipToString(wordsToBytes(af, k, at + 1)),
        mac: macToString(this.#macs, slot * 6),
        underlay: ipToString(this.#underlay.subarray(slot * 16, slot * 16 + 16)),
      });
    });
    return out;
  }

  #ensure(n: number): void {
    if (n <= this.#stamps.length) return;
    let cap = this.#stamps.length;
    while (cap < n) cap *= 2;
    const grow = <T extends Uint8Array | Uint32Array>(
      a: T,
      per: number,
      make: (n: number) => T,
    ) => {
      const b = make(cap * per);
      b.set(a);
      return b;
    };
    this.#macs = grow(this.#macs, 6, (n) => new Uint8Array(n));
    this.#underlay = grow(this.#underlay, 16, (n) => new Uint8Array(n));
    this.#stamps = grow(this.#stamps, 1, (n) => new Uint32Array(n));
  }
}

/** A boundary-services tunnel endpoint: underlay IPv6 and the VNI to use towards it. */
export interface BoundaryEndpoint {
  readonly ip: Uint8Array;
  readonly vni: number;
}

/** A V2B entry: prefix, its endpoints, and the generation that last changed it. */
export interface V2BEntry {
  readonly cidr: Cidr;
  readonly endpoints: readonly BoundaryEndpoint[];
  readonly stamp: number;
}

/** Longest-prefix map from external IPv4/IPv6 prefixes to boundary tunnel endpoints. */
export class V2B {
  /** Bumps on every change. */
  generation = 0;
  #lastRemoval = 0;
  /** Per family (index 0 = v4, 1 = v6), per prefix length: masked words → entry slot. */
  readonly #byLen: (WordTable | undefined)[][] = [new Array(33), new Array(129)];
  /** Per family: the prefix lengths in use, longest first. */
  readonly #lens: number[][] = [[], []];
  readonly #entries: (V2BEntry | undefined)[] = [];
  readonly #slots = new SlotAllocator();
  readonly #key = new Uint32Array(4);

  /** Sets the endpoints of a prefix (replacing any). Endpoint VNI defaults to 99. */
  set(prefix: string, endpoints: readonly { ip: string; vni?: number }[]): void {
    const cidr = parseCidr(prefix, { loose: true });
    if (!cidr) throw new InvalidField("v2b.prefix", `"${prefix}" is not a CIDR prefix`);
    if (endpoints.length === 0) {
      throw new InvalidField("v2b.endpoints", `empty for ${prefix} (expected at least one)`);
    }
    const eps = endpoints.map((e, i) => {
      const ip = parseIpv6(e.ip);
      if (!ip) throw new InvalidField(`v2b.endpoints[${i}].ip`, `"${e.ip}" is not an IPv6 address`);
      const vni = e.vni ?? BOUNDARY_VNI;
      if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) {
        throw new InvalidField(
          `v2b.endpoints[${i}].vni`,
          `${vni} is not a VNI (expected 0-16777215)`,
        );
      }
      return { ip, vni };
    });
    const fam = cidr.af === 4 ? 0 : 1;
    let t = this.#byLen[fam][cidr.len];
    if (!t) {
      t = this.#byLen[fam][cidr.len] = new WordTable(4);
      this.#lens[fam].push(cidr.len);
      this.#lens[fam].sort((a, b) => b - a);
    }
    let slot = t.get(cidr.words, 0);
    if (slot < 0) {
      slot = this.#slots.alloc();
      t.set(cidr.words, 0, slot);
    }
    this.#entries[slot] = { cidr, endpoints: eps, stamp: ++this.generation };
  }

  /** Removes a prefix (or only the listed endpoints of it); false when nothing matched. */
  clear(prefix: string, endpoints?: readonly { ip: string; vni?: number }[]): boolean {
    const cidr = parseCidr(prefix, { loose: true });
    if (!cidr) throw new InvalidField("v2b.prefix", `"${prefix}" is not a CIDR prefix`);
    const fam = cidr.af === 4 ? 0 : 1;
    const t = this.#byLen[fam][cidr.len];
    const slot = t ? t.get(cidr.words, 0) : -1;
    if (!t || slot < 0) return false;
    const entry = this.#entries[slot]!;
    if (endpoints) {
      const drop = endpoints.map((e) => ipToString(parseIpv6(e.ip) ?? new Uint8Array(16)));
      const keep = entry.endpoints.filter((e) => !drop.includes(ipToString(e.ip)));
      if (keep.length === entry.endpoints.length) return false;
      if (keep.length > 0) {
        this.#entries[slot] = { cidr, endpoints: keep, stamp: ++this.generation };
        this.#lastRemoval = this.generation;
        return true;
      }
    }
    t.delete(cidr.words, 0);
    this.#entries[slot] = undefined;
    this.#slots.release(slot);
    if (t.size === 0) {
      this.#byLen[fam][cidr.len] = undefined;
      this.#lens[fam] = this.#lens[fam].filter((l) => l !== cidr.len);
    }
    this.#lastRemoval = ++this.generation;
    return true;
  }

  /** Fast-path longest-prefix lookup by address words: an entry handle, or -1. */
  lookup(af: number, w: Uint32Array, at = 0): number {
    const fam = af === 4 ? 0 : 1, lens = this.#lens[fam], k = this.#key;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i];
      for (let j = 0; j < 4; j++) {
        k[j] = fam === 0 && j > 0 ? 0 : (w[at + j] & maskWord(len, j)) >>> 0;
      }
      const slot = this.#byLen[fam][len]!.get(k, 0);
      if (slot >= 0) return slot;
    }
    return -1;
  }

  /** The entry behind a handle from `lookup`. */
  entry(handle: number): V2BEntry {
    return this.#entries[handle]!;
  }

  /** The endpoint a flow with hash `hash` uses (stable while the entry is unchanged). */
  choose(handle: number, hash: number): BoundaryEndpoint {
    const eps = this.#entries[handle]!.endpoints;
    return eps[(hash >>> 0) % eps.length];
  }

  /** True when the longest match for this address is the same as at generation `since`. */
  unchangedSince(since: number, af: number, w: Uint32Array, at = 0): boolean {
    if (this.generation === since) return true;
    if (this.#lastRemoval > since) return false;
    const h = this.lookup(af, w, at);
    return h >= 0 && this.#entries[h]!.stamp <= since;
  }

  /** Every prefix with its endpoints, as text. */
  dump(): { prefix: string; endpoints: { ip: string; vni: number }[] }[] {
    const out: { prefix: string; endpoints: { ip: string; vni: number }[] }[] = [];
    for (const e of this.#entries) {
      if (!e) continue;
      out.push({
        prefix: cidrToString(e.cidr),
        endpoints: e.endpoints.map((p) => ({ ip: ipToString(p.ip), vni: p.vni })),
      });
    }
    return out;
  }
}

/** The sled-wide mapping tables every VPC port consults. */
export class Mappings {
  readonly v2p = new V2P();
  readonly v2b = new V2B();
}
