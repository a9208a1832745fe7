// Rule predicates: plain data (so rules can be listed and traced) compiled once into closures
// that read the packet bytes at the offsets `meta.flow` recorded. No predicate allocates.

import { bytesEqual, parseIp, parseMac, u32 } from "../packet/bytes.ts";
import { ETH_DST, ETH_SRC } from "../packet/ethernet.ts";
import { IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import { IPV6_DST, IPV6_SRC } from "../packet/ipv6.ts";
import { type Cidr, maskWord, parseCidr } from "../packet/addr.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_UDP } from "../packet/checksum.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import type { Packet } from "./packet.ts";
import { InvalidField } from "../contract/field_error.ts";

/**
 * Per-packet key=value metadata written by `meta` actions and read by later layers. A walk
 * sets a handful of keys, kept in two arrays cut back by a count: `Map.clear()` allocates a
 * new table, which cost every slow-path packet (e.g. each of a denied flood) ~100 bytes.
 */
export class ActionMeta {
  private readonly keys: string[] = [];
  private readonly vals: string[] = [];
  private n = 0;
  // Typed values (e.g. the router's target) travel beside the text keys so later layers read
  // them as written instead of re-parsing text; predicates only ever see the text keys. Kept in
  // arrays like the text keys: a Map cleared per packet allocates its table again.
  private readonly tkeys: string[] = [];
  private readonly tvals: unknown[] = [];
  private tn = 0;
  private at(key: string): number {
    for (let i = 0; i < this.n; i++) if (this.keys[i] === key) return i;
    return -1;
  }
  private tat(key: string): number {
    for (let i = 0; i < this.tn; i++) if (this.tkeys[i] === key) return i;
    return -1;
  }
  /** The value for `key`, or undefined. */
  get(key: string): string | undefined {
    const i = this.at(key);
    return i < 0 ? undefined : this.vals[i];
  }
  /** Sets `key` for the rest of this packet's walk through the layers. */
  set(key: string, value: string): void {
    const i = this.at(key);
    if (i >= 0) {
      this.vals[i] = value;
      return;
    }
    this.keys[this.n] = key;
    this.vals[this.n++] = value;
  }
  /** True when `key` is set. */
  has(key: string): boolean {
    return this.at(key) >= 0;
  }
  /** Sets a typed value for later layers (not visible to `meta` predicates). */
  setValue(key: string, value: unknown): void {
    const i = this.tat(key);
    if (i >= 0) {
      this.tvals[i] = value;
      return;
    }
    this.tkeys[this.tn] = key;
    this.tvals[this.tn++] = value;
  }
  /** The typed value for `key` as written by `setValue`, or undefined. */
  value<T>(key: string): T | undefined {
    const i = this.tat(key);
    return i < 0 ? undefined : this.tvals[i] as T;
  }
  /** Forgets every key (before each packet). */
  clear(): void {
    this.n = 0;
    for (let i = 0; i < this.tn; i++) this.tvals[i] = undefined;
    this.tn = 0;
  }
  /** A snapshot for traces. */
  toObject(): Record<string, string> {
    const o: Record<string, string> = {};
    for (let i = 0; i < this.n; i++) o[this.keys[i]] = this.vals[i];
    return o;
  }
}

/** A port value or inclusive range. */
export type PortMatch = number | readonly [number, number];

/** What a rule matches on; all predicates of a rule must hold. Fields read `meta.flow`. */
export type Predicate =
  | { kind: "etherType"; values: readonly number[] }
  /** Exact MAC, or `multicast: true` for any group address (I/G bit, includes broadcast). */
  | { kind: "etherSrc" | "etherDst"; mac?: string; multicast?: boolean }
  | { kind: "ipVersion"; version: 4 | 6 }
  /** An address ("10.0.0.1", "fd00::1") or a CIDR ("10.0.0.0/24"), any of `cidrs`. */
  | { kind: "ipSrc" | "ipDst"; cidrs: readonly string[] }
  /** Upper-layer protocol (after IPv6 extension headers). */
  | { kind: "ipProto"; values: readonly number[] }
  | { kind: "srcPort" | "dstPort"; ports: readonly PortMatch[] }
  /** ICMP (IPv4) or ICMPv6 type/code; `v6` picks the family (default: either). */
  | { kind: "icmpType" | "icmpCode"; values: readonly number[]; v6?: boolean }
  | { kind: "meta"; key: string; value: string }
  /** DHCPv4 message type (option 53) of a UDP datagram to or from ports 67/68. */
  | { kind: "dhcpMsgType"; values: readonly number[] }
  /** DHCPv6 message type (first payload byte) of a UDP datagram to or from ports 546/547. */
  | { kind: "dhcpv6MsgType"; values: readonly number[] }
  | { kind: "not"; pred: Predicate }
  | { kind: "any"; preds: readonly Predicate[] }
  | { kind: "all"; preds: readonly Predicate[] };

/** A compiled predicate. */
export type Matcher = (pkt: Packet, am: ActionMeta) => boolean;

/** Thrown by compilePredicate for a malformed rule (control plane, never the packet loop). */
export class PredicateError extends Error {}

/** A prefix compiled for matching: address and mask as four big-endian u32 words. */
interface CidrMatch {
  v4: boolean;
  addr: Uint32Array;
  mask: Uint32Array;
}

/** A rule's "a.b.c.d[/n]" or "x::y[/n]" (host bits ignored); throws PredicateError when bad. */
export function ruleCidr(s: string): Cidr {
  const c = parseCidr(s, { bare: true, loose: true });
  if (c !== null) return c;
  const a = s.split("/")[0];
  const ip = parseIp(a);
  if (!ip) throw new PredicateError(`"${s}" is not an IP address or CIDR`);
  throw new PredicateError(`"${s}": prefix length must be 0..${ip.length * 8}`);
}

function compileCidr(s: string): CidrMatch {
  const c = ruleCidr(s);
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) mask[i] = maskWord(c.len, i);
  return { v4: c.af === 4, addr: c.words, mask };
}

const word = u32;

function cidrMatch(buf: Uint8Array, lv: HeaderLevel, dst: boolean, c: CidrMatch): boolean {
  if (c.v4) {
    if (lv.ipVersion !== 4) return false;
    return ((word(buf, lv.l3 + (dst ? IPV4_DST : IPV4_SRC)) & c.mask[0]) >>> 0) === c.addr[0];
  }
  if (lv.ipVersion !== 6) return false;
  const at = lv.l3 + (dst ? IPV6_DST : IPV6_SRC);
  for (let i = 0; i < 4; i++) {
    if (((word(buf, at + 4 * i) & c.mask[i]) >>> 0) !== c.addr[i]) return false;
  }
  return true;
}

function inList(values: readonly number[]): (v: number) => boolean {
  if (values.length === 1) {
    const x = values[0];
    return (v) => v === x;
  }
  const set = new Set(values);
  return (v) => set.has(v);
}

function isDhcpPorts(lv: HeaderLevel, a: number, b: number): boolean {
  return lv.proto === PROTO_UDP && lv.payload >= 0 &&
    ((lv.srcPort === a && lv.dstPort === b) || (lv.srcPort === b && lv.dstPort === a));
}

/** The DHCPv4 message type of the datagram at `lv`, or -1. */
export function dhcpMessageType(buf: Uint8Array, lv: HeaderLevel): number {
  if (!isDhcpPorts(lv, 67, 68)) return -1;
  const end = lv.ipEnd;
  let o = lv.payload + 236;
  if (o + 4 > end || word(buf, o) !== 0x63825363) return -1;
  o += 4;
  while (o < end) {
    const code = buf[o];
    if (code === 255) return -1;
    if (code === 0) {
      o++;
      continue;
    }
    if (o + 2 > end) return -1;
    const len = buf[o + 1];
    if (code === 53) return len >= 1 && o + 3 <= end ? buf[o + 2] : -1;
    o += 2 + len;
  }
  return -1;
}

/** Compiles a predicate into a matcher; throws PredicateError for malformed specs. */
export function compilePredicate(p: Predicate): Matcher {
  switch (p.kind) {
    case "etherType": {
      const f = inList(p.values);
      return (pkt) => f(pkt.meta.flow.etherType);
    }
    case "etherSrc":
    case "etherDst": {
      const off = p.kind === "etherSrc" ? ETH_SRC : ETH_DST;
      if (p.multicast) {
        return (pkt) => pkt.meta.flow.ether >= 0 && (pkt.buf[pkt.meta.flow.ether + off] & 1) === 1;
      }
      const mac = p.mac ? parseMac(p.mac) : null;
      if (!mac) throw new InvalidField(p.kind, `"${p.mac}" is not a MAC address`);
      return (pkt) => {
        const b = pkt.buf, e = pkt.meta.flow.ether, o = e + off;
        return e >= 0 && bytesEqual(b, o, mac, 0, 6);
      };
    }
    case "ipVersion": {
      const v = p.version;
      return (pkt) => pkt.meta.flow.ipVersion === v;
    }
    case "ipSrc":
    case "ipDst": {
      const dst = p.kind === "ipDst";
      const cs = p.cidrs.map(compileCidr);
      if (cs.length === 1) {
        const c = cs[0];
        return (pkt) => cidrMatch(pkt.buf, pkt.meta.flow, dst, c);
      }
      return (pkt) => {
        for (let i = 0; i < cs.length; i++) {
          if (cidrMatch(pkt.buf, pkt.meta.flow, dst, cs[i])) return true;
        }
        return false;
      };
    }
    case "ipProto": {
      const f = inList(p.values);
      return (pkt) => pkt.meta.flow.ipVersion !== 0 && f(pkt.meta.flow.proto);
    }
    case "srcPort":
    case "dstPort": {
      const src = p.kind === "srcPort";
      const lo = new Int32Array(p.ports.length), hi = new Int32Array(p.ports.length);
      p.ports.forEach((x, i) => {
        const [a, b] = typeof x === "number" ? [x, x] : x;
        if (!(a >= 0 && b <= 65535 && a <= b)) {
          throw new InvalidField(p.kind, `${JSON.stringify(x)} is not a port or range`);
        }
        lo[i] = a;
        hi[i] = b;
      });
      return (pkt) => {
        const lv = pkt.meta.flow;
        if (lv.l4 < 0 || lv.icmpType >= 0) return false;
        const v = src ? lv.srcPort : lv.dstPort;
        for (let i = 0; i < lo.length; i++) if (v >= lo[i] && v <= hi[i]) return true;
        return false;
      };
    }
    case "icmpType":
    case "icmpCode": {
      const f = inList(p.values);
      const code = p.kind === "icmpCode", v6 = p.v6;
      return (pkt) => {
        const lv = pkt.meta.flow;
        if (lv.icmpType < 0) return false;
        if (v6 !== undefined && (lv.proto === PROTO_ICMPV6) !== v6) return false;
        if (lv.proto !== PROTO_ICMP && lv.proto !== PROTO_ICMPV6) return false;
        return f(code ? lv.icmpCode : lv.icmpType);
      };
    }
    case "meta": {
      const { key, value } = p;
      return (_pkt, am) => am.get(key) === value;
    }
    case "dhcpMsgType": {
      const f = inList(p.values);
      return (pkt) => {
        const t = dhcpMessageType(pkt.buf, pkt.meta.flow);
        return t >= 0 && f(t);
      };
    }
    case "dhcpv6MsgType": {
      const f = inList(p.values);
      return (pkt) => {
        const lv = pkt.meta.flow;
        return isDhcpPorts(lv, 546, 547) && lv.payload < lv.ipEnd && f(pkt.buf[lv.payload]);
      };
    }
    case "not": {
      const m = compilePredicate(p.pred);
      return (pkt, am) => !m(pkt, am);
    }
    case "any": {
      const ms = p.preds.map(compilePredicate);
      return (pkt, am) => {
        for (let i = 0; i < ms.length; i++) if (ms[i](pkt, am)) return true;
        return false;
      };
    }
    case "all":
      return compileAll(p.preds);
  }
}

/** Compiles a conjunction (an empty list matches everything). */
export function compileAll(preds: readonly Predicate[]): Matcher {
  const ms = preds.map(compilePredicate);
  switch (ms.length) {
    case 0:
      return () => true;
    case 1:
      return ms[0];
    case 2: {
      const [a, b] = ms;
      return (pkt, am) => a(pkt, am) && b(pkt, am);
    }
    default:
      return (pkt, am) => {
        for (let i = 0; i < ms.length; i++) if (!ms[i](pkt, am)) return false;
        return true;
      };
  }
}
