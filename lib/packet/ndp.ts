// Neighbor Discovery (RFC 4861): RS, RA, NS, NA, redirect and their options (source/target
// link-layer address, prefix information, MTU; RDNSS from RFC 8106).

import { BoundedView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { bytesEqual, copyBytes, setU16, setU32, u16, u32 } from "./bytes.ts";
import {
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_REDIRECT,
  ICMPV6_ROUTER_ADVERT,
  ICMPV6_ROUTER_SOLICIT,
  icmpv6HeaderLen,
} from "./icmpv6.ts";

const CUR_HOP_LIMIT = 4, RA_FLAGS = 5, ROUTER_LIFETIME = 6, REACHABLE = 8, RETRANS = 12;
/** Offset of the NS/NA/redirect target address from the start of the ICMPv6 header. */
export const NDP_TARGET = 8;
/** Offset of the NA flags byte from the start of the ICMPv6 header. */
export const NDP_NA_FLAGS = 4;
const NA_FLAGS = NDP_NA_FLAGS, TARGET = NDP_TARGET, REDIRECT_DST = 24;
/** Neighbor advertisement flags (the byte after the checksum). */
export const NDP_NA_ROUTER = 0x80, NDP_NA_SOLICITED = 0x40, NDP_NA_OVERRIDE = 0x20;
const NA_ROUTER = NDP_NA_ROUTER, NA_SOLICITED = NDP_NA_SOLICITED, NA_OVERRIDE = NDP_NA_OVERRIDE;
const RA_MANAGED = 0x80, RA_OTHER = 0x40;

export const NDP_OPT_SOURCE_LL = 1;
export const NDP_OPT_TARGET_LL = 2;
export const NDP_OPT_PREFIX_INFO = 3;
export const NDP_OPT_MTU = 5;
export const NDP_OPT_RDNSS = 25;

/** A read/write view of any NDP message (an ICMPv6 header of type 133-137). */
export class NdpView extends BoundedView {
  get type(): number {
    return this.buf[this.off];
  }
  /** RA: current hop limit. */
  get curHopLimit(): number {
    return this.buf[this.off + CUR_HOP_LIMIT];
  }
  /** RA: managed address configuration (DHCPv6) flag. */
  get managed(): boolean {
    return (this.buf[this.off + RA_FLAGS] & RA_MANAGED) !== 0;
  }
  /** RA: other configuration flag. */
  get other(): boolean {
    return (this.buf[this.off + RA_FLAGS] & RA_OTHER) !== 0;
  }
  /** RA: default router preference (raw 2-bit field). */
  get preference(): number {
    return (this.buf[this.off + RA_FLAGS] >>> 3) & 3;
  }
  /** RA: router lifetime in seconds. */
  get routerLifetime(): number {
    return u16(this.buf, this.off + ROUTER_LIFETIME);
  }
  /** RA: reachable time in ms. */
  get reachableTime(): number {
    return u32(this.buf, this.off + REACHABLE);
  }
  /** RA: retransmission timer in ms. */
  get retransTimer(): number {
    return u32(this.buf, this.off + RETRANS);
  }
  /** NA: router flag. */
  get router(): boolean {
    return (this.buf[this.off + NA_FLAGS] & NA_ROUTER) !== 0;
  }
  /** NA: solicited flag. */
  get solicited(): boolean {
    return (this.buf[this.off + NA_FLAGS] & NA_SOLICITED) !== 0;
  }
  /** NA: override flag. */
  get override(): boolean {
    return (this.buf[this.off + NA_FLAGS] & NA_OVERRIDE) !== 0;
  }
  /** NS/NA/redirect: target address (subarray, no copy). */
  get target(): Uint8Array {
    return this.buf.subarray(this.off + TARGET, this.off + TARGET + 16);
  }
  /** True when the NS/NA/redirect target equals `a[aOff..aOff+16]` (no allocation). */
  targetEquals(a: Uint8Array, aOff = 0): boolean {
    return bytesEqual(this.buf, this.off + TARGET, a, aOff, 16);
  }
  /** Copies the NS/NA/redirect target into `out[outOff..]` (no allocation). */
  copyTargetInto(out: Uint8Array, outOff = 0): void {
    copyBytes(this.buf, this.off + TARGET, out, outOff, 16);
  }
  /** Redirect: destination address (subarray, no copy). */
  get redirectDst(): Uint8Array {
    return this.buf.subarray(this.off + REDIRECT_DST, this.off + REDIRECT_DST + 16);
  }
  /** Offset of the first option. */
  get optionsOff(): number {
    return this.off + icmpv6HeaderLen(this.type);
  }
  /** Offset of the first option of `type` (its type byte), -1 when absent. */
  findOption(type: number): number {
    return findNdpOption(this.buf, this.optionsOff, this.end, type);
  }
  /** Offset of the MAC in the source (or target) link-layer address option, -1 when absent. */
  linkAddrOff(type = NDP_OPT_SOURCE_LL): number {
    const at = this.findOption(type);
    return at < 0 || this.buf[at + 1] !== 1 ? -1 : at + 2;
  }
  /** The MAC of the source (or target) link-layer address option, null when absent. */
  linkAddr(type = NDP_OPT_SOURCE_LL): Uint8Array | null {
    const at = this.findOption(type);
    return at < 0 || this.buf[at + 1] !== 1 ? null : this.buf.subarray(at + 2, at + 8);
  }
}

/**
 * Checks the option list in [off, end): every option has a non-zero length and fits
 * (RFC 4861 §4.6: a zero length must be discarded, it would loop a naive walker).
 */
export function checkNdpOptions(buf: Uint8Array, off: number, end: number): ParseError | null {
  let at = off;
  while (at < end) {
    if (end - at < 2) return parseError("truncated", "ndp.option", at);
    const len = buf[at + 1] * 8;
    if (len === 0) return parseError("malformed", "ndp.option-length", at + 1);
    if (len > end - at) return parseError("truncated", "ndp.option", at);
    at += len;
  }
  return null;
}

/** Offset of the first option of `type` in a checked list [off, end), -1 when absent. */
export function findNdpOption(buf: Uint8Array, off: number, end: number, type: number): number {
  let at = off;
  while (end - at >= 2) {
    const len = buf[at + 1] * 8;
    if (len === 0) return -1;
    if (buf[at] === type) return at + len <= end ? at : -1;
    at += len;
  }
  return -1;
}

/** Checks an NDP message (fixed part and options) in [off, end). Never throws. */
export function checkNdp(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < 4) return parseError("truncated", "ndp", off);
  const hlen = icmpv6HeaderLen(buf[off]);
  if (end - off < hlen) return parseError("truncated", "ndp", off);
  return checkNdpOptions(buf, off + hlen, end);
}

/** Validates once and returns a view. Never throws. */
export function parseNdp(buf: Uint8Array, off: number, end: number): NdpView | ParseError {
  return checkNdp(buf, off, end) ?? new NdpView(buf, off, end);
}

/** One NDP option, plain values; addresses are `A` (bytes here, text or bytes in a test spec). */
export type NdpOptionRepr<A = Uint8Array> =
  | { type: "sourceLinkAddr"; mac: A }
  | { type: "targetLinkAddr"; mac: A }
  | {
    type: "prefixInfo";
    prefix: A;
    prefixLen: number;
    onLink?: boolean;
    autonomous?: boolean;
    validLifetime?: number;
    preferredLifetime?: number;
  }
  | { type: "mtu"; mtu: number }
  | { type: "rdnss"; lifetime: number; servers: A[] }
  /** Any other option: `data` follows the type and length bytes, zero-padded to 8n − 2. */
  | { type: "raw"; optType: number; data: Uint8Array; lengthUnits?: number };

/** Plain values of an NDP message. */
export type NdpRepr =
  | { kind: "rs"; options?: NdpOptionRepr[] }
  | {
    kind: "ra";
    curHopLimit?: number;
    managed?: boolean;
    other?: boolean;
    /** Default router preference, the raw 2-bit field (RFC 4191: 0 medium, 1 high, 3 low). */
    preference?: number;
    routerLifetime?: number;
    reachableTime?: number;
    retransTimer?: number;
    options?: NdpOptionRepr[];
  }
  | { kind: "ns"; target: Uint8Array; options?: NdpOptionRepr[] }
  | {
    kind: "na";
    target: Uint8Array;
    router?: boolean;
    solicited?: boolean;
    override?: boolean;
    options?: NdpOptionRepr[];
  }
  | { kind: "redirect"; target: Uint8Array; dst: Uint8Array; options?: NdpOptionRepr[] };

const KIND_TYPE = {
  rs: ICMPV6_ROUTER_SOLICIT,
  ra: ICMPV6_ROUTER_ADVERT,
  ns: ICMPV6_NEIGHBOR_SOLICIT,
  na: ICMPV6_NEIGHBOR_ADVERT,
  redirect: ICMPV6_REDIRECT,
} as const;

/** ICMPv6 type of an NDP message kind. */
export function ndpType(kind: NdpRepr["kind"]): number {
  return KIND_TYPE[kind];
}

function optionLen(o: NdpOptionRepr): number {
  switch (o.type) {
    case "sourceLinkAddr":
    case "targetLinkAddr":
    case "mtu":
      return 8;
    case "prefixInfo":
      return 32;
    case "rdnss":
      return 8 + 16 * o.servers.length;
    case "raw":
      return o.lengthUnits !== undefined
        ? o.lengthUnits * 8
        : Math.max(8, (o.data.length + 9) & ~7);
  }
}

/** Bytes `emitNdp` writes. */
export function ndpBufferLen(r: NdpRepr): number {
  let n = icmpv6HeaderLen(KIND_TYPE[r.kind]);
  for (const o of r.options ?? []) n += optionLen(o);
  return n;
}

function emitOption(o: NdpOptionRepr, buf: Uint8Array, at: number): number {
  const len = optionLen(o);
  buf.fill(0, at, at + len);
  buf[at + 1] = len / 8;
  switch (o.type) {
    case "sourceLinkAddr":
    case "targetLinkAddr":
      buf[at] = o.type === "sourceLinkAddr" ? NDP_OPT_SOURCE_LL : NDP_OPT_TARGET_LL;
      copyBytes(o.mac, 0, buf, at + 2, 6);
      break;
    case "prefixInfo":
      buf[at] = NDP_OPT_PREFIX_INFO;
      buf[at + 2] = o.prefixLen;
      buf[at + 3] = ((o.onLink ?? true) ? 0x80 : 0) | ((o.autonomous ?? true) ? 0x40 : 0);
      setU32(buf, at + 4, o.validLifetime ?? 86400);
      setU32(buf, at + 8, o.preferredLifetime ?? 14400);
      buf.set(o.prefix.subarray(0, 16), at + 16);
      break;
    case "mtu":
      buf[at] = NDP_OPT_MTU;
      setU32(buf, at + 4, o.mtu);
      break;
    case "rdnss":
      buf[at] = NDP_OPT_RDNSS;
      setU32(buf, at + 4, o.lifetime);
      o.servers.forEach((s, i) => buf.set(s.subarray(0, 16), at + 8 + 16 * i));
      break;
    case "raw":
      buf[at] = o.optType;
      buf.set(o.data.subarray(0, Math.max(0, len - 2)), at + 2);
      break;
  }
  return len;
}

/** Writes the message (checksum zero) and its options at `off`; returns its length. */
export function emitNdp(r: NdpRepr, buf: Uint8Array, off: number): number {
  const type = KIND_TYPE[r.kind];
  const hlen = icmpv6HeaderLen(type);
  buf.fill(0, off, off + hlen);
  buf[off] = type;
  switch (r.kind) {
    case "ra":
      buf[off + CUR_HOP_LIMIT] = r.curHopLimit ?? 64;
      buf[off + RA_FLAGS] = (r.managed ? RA_MANAGED : 0) | (r.other ? RA_OTHER : 0) |
        (((r.preference ?? 0) & 3) << 3);
      setU16(buf, off + ROUTER_LIFETIME, r.routerLifetime ?? 1800);
      setU32(buf, off + REACHABLE, r.reachableTime ?? 0);
      setU32(buf, off + RETRANS, r.retransTimer ?? 0);
      break;
    case "ns":
      copyBytes(r.target, 0, buf, off + TARGET, 16);
      break;
    case "na":
      buf[off + NA_FLAGS] = (r.router ? NA_ROUTER : 0) | (r.solicited ? NA_SOLICITED : 0) |
        (r.override ? NA_OVERRIDE : 0);
      copyBytes(r.target, 0, buf, off + TARGET, 16);
      break;
    case "redirect":
      buf.set(r.target.subarray(0, 16), off + TARGET);
      buf.set(r.dst.subarray(0, 16), off + REDIRECT_DST);
      break;
  }
  let at = off + hlen;
  for (const o of r.options ?? []) at += emitOption(o, buf, at);
  return at - off;
}

/** Reads the options of a checked message into Reprs (unknown ones as raw). */
export function ndpOptionsRepr(v: NdpView): NdpOptionRepr[] {
  const out: NdpOptionRepr[] = [];
  const b = v.buf;
  for (let at = v.optionsOff; v.end - at >= 2 && b[at + 1] > 0;) {
    const len = b[at + 1] * 8;
    if (at + len > v.end) break;
    const t = b[at];
    if ((t === NDP_OPT_SOURCE_LL || t === NDP_OPT_TARGET_LL) && len === 8) {
      const mac = b.slice(at + 2, at + 8);
      out.push(
        t === NDP_OPT_SOURCE_LL ? { type: "sourceLinkAddr", mac } : {
          type: "targetLinkAddr",
          mac,
        },
      );
    } else if (t === NDP_OPT_PREFIX_INFO && len === 32) {
      out.push({
        type: "prefixInfo",
        prefixLen: b[at + 2],
        onLink: (b[at + 3] & 0x80) !== 0,
        autonomous: (b[at + 3] & 0x40) !== 0,
        validLifetime: u32(b, at + 4),
        preferredLifetime: u32(b, at + 8),
        prefix: b.slice(at + 16, at + 32),
      });
    } else if (t === NDP_OPT_MTU && len === 8) out.push({ type: "mtu", mtu: u32(b, at + 4) });
    else if (t === NDP_OPT_RDNSS && len >= 24 && (len - 8) % 16 === 0) {
      const servers: Uint8Array[] = [];
      for (let s = at + 8; s < at + len; s += 16) servers.push(b.slice(s, s + 16));
      out.push({ type: "rdnss", lifetime: u32(b, at + 4), servers });
    } else out.push({ type: "raw", optType: t, data: b.slice(at + 2, at + len) });
    at += len;
  }
  return out;
}
