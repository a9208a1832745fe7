// IPv6 (RFC 8200) and its extension-header chain.

import { HeaderView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { copyBytes, setU16, setU32, u16, u32 } from "./bytes.ts";
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, type HeaderLevel } from "./meta.ts";

/** Field offsets from the start of the IPv6 header. */
export const IPV6_PAYLOAD_LEN = 4, IPV6_NEXT_HEADER = 6, IPV6_HOP_LIMIT = 7, IPV6_SRC = 8;
export const IPV6_DST = 24;
const VER_TC_FL = 0, PAYLOAD_LEN = IPV6_PAYLOAD_LEN, NEXT_HEADER = IPV6_NEXT_HEADER;
const HOP_LIMIT = IPV6_HOP_LIMIT, SRC = IPV6_SRC, DST = IPV6_DST;
/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;

export const EXT_HOP_BY_HOP = 0;
export const EXT_ROUTING = 43;
export const EXT_FRAGMENT = 44;
export const EXT_ESP = 50;
export const EXT_AH = 51;
export const EXT_NO_NEXT = 59;
export const EXT_DEST_OPTS = 60;
const EXT_MOBILITY = 135, EXT_HIP = 139, EXT_SHIM6 = 140;
/** More extension headers than this is treated as an attack, not a packet. */
export const MAX_EXT_HEADERS = 8;
const FRAGMENT_HEADER_LEN = 8;

/** Writes the 20-bit flow label of the IPv6 header at `off`, keeping version and traffic class. */
export function setIpv6FlowLabel(buf: Uint8Array, off: number, v: number): void {
  const w = u32(buf, off + VER_TC_FL);
  setU32(buf, off + VER_TC_FL, ((w & 0xfff00000) | (v & 0xfffff)) >>> 0);
}

/** A read/write view of the fixed IPv6 header; validated by `parseIpv6`. */
export class Ipv6View extends HeaderView {
  get version(): number {
    return this.buf[this.off + VER_TC_FL] >>> 4;
  }
  get trafficClass(): number {
    return (u16(this.buf, this.off + VER_TC_FL) >>> 4) & 0xff;
  }
  get flowLabel(): number {
    return u32(this.buf, this.off + VER_TC_FL) & 0xfffff;
  }
  set flowLabel(v: number) {
    setIpv6FlowLabel(this.buf, this.off, v);
  }
  get payloadLen(): number {
    return u16(this.buf, this.off + PAYLOAD_LEN);
  }
  set payloadLen(v: number) {
    setU16(this.buf, this.off + PAYLOAD_LEN, v);
  }
  get nextHeader(): number {
    return this.buf[this.off + NEXT_HEADER];
  }
  set nextHeader(v: number) {
    this.buf[this.off + NEXT_HEADER] = v;
  }
  get hopLimit(): number {
    return this.buf[this.off + HOP_LIMIT];
  }
  set hopLimit(v: number) {
    this.buf[this.off + HOP_LIMIT] = v;
  }
  /** Source address (subarray, no copy). */
  get src(): Uint8Array {
    return this.buf.subarray(this.off + SRC, this.off + SRC + 16);
  }
  /** Destination address (subarray, no copy). */
  get dst(): Uint8Array {
    return this.buf.subarray(this.off + DST, this.off + DST + 16);
  }
  /** True when the source address equals `a[aOff..aOff+16]` (no allocation). */
  srcEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(SRC, 16, a, aOff);
  }
  /** Copies the source address into `out[outOff..]` (no allocation). */
  copySrcInto(out: Uint8Array, outOff = 0): void {
    this.copyField(SRC, 16, out, outOff);
  }
  /** Writes the source address from `a[aOff..]` (no allocation). */
  setSrcFrom(a: Uint8Array, aOff = 0): void {
    this.setField(SRC, 16, a, aOff);
  }
  /** True when the destination address equals `a[aOff..aOff+16]` (no allocation). */
  dstEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(DST, 16, a, aOff);
  }
  /** Copies the destination address into `out[outOff..]` (no allocation). */
  copyDstInto(out: Uint8Array, outOff = 0): void {
    this.copyField(DST, 16, out, outOff);
  }
  /** Writes the destination address from `a[aOff..]` (no allocation). */
  setDstFrom(a: Uint8Array, aOff = 0): void {
    this.setField(DST, 16, a, aOff);
  }
}

/** Plain values of the fixed IPv6 header. */
export interface Ipv6Repr {
  src: Uint8Array;
  dst: Uint8Array;
  nextHeader: number;
  /** Bytes after the fixed header, extension headers included. */
  payloadLen: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** One extension header to emit. Options headers are zero-padded (Pad1) to 8-byte multiples. */
export interface Ipv6ExtRepr {
  type: number;
  nextHeader: number;
  /** Body after the 2-byte (next header, length) prefix; unused for fragment headers. */
  data?: Uint8Array;
  /** Fragment header: offset in bytes, M flag, identification. */
  fragOffset?: number;
  moreFragments?: boolean;
  ident?: number;
}

/** True for the extension headers whose length is (len + 1) × 8 after a 2-byte prefix. */
function isGenericExt(nh: number): boolean {
  return nh === EXT_HOP_BY_HOP || nh === EXT_ROUTING || nh === EXT_DEST_OPTS ||
    nh === EXT_MOBILITY || nh === EXT_HIP || nh === EXT_SHIM6;
}

/** True when `nh` names an extension header the chain walker steps over. */
export function isIpv6Extension(nh: number): boolean {
  return isGenericExt(nh) || nh === EXT_FRAGMENT || nh === EXT_AH;
}

/** Checks the fixed header against [off, end): version and payload length. Never throws. */
export function checkIpv6(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < IPV6_HEADER_LEN) return parseError("truncated", "ipv6", off);
  if (buf[off] >>> 4 !== 6) return parseError("malformed", "ipv6.version", off);
  const plen = u16(buf, off + PAYLOAD_LEN);
  // A zero payload length with a hop-by-hop header is a jumbogram, which we do not carry.
  if (plen === 0 && buf[off + NEXT_HEADER] === EXT_HOP_BY_HOP) {
    return parseError("unsupported", "ipv6.jumbogram", off + PAYLOAD_LEN);
  }
  if (plen > end - off - IPV6_HEADER_LEN) {
    return parseError("truncated", "ipv6.length", off + PAYLOAD_LEN);
  }
  return null;
}

/**
 * Walks the extension-header chain of the IPv6 header at `off` (already checked), up to the
 * datagram end `ipEnd`. Sets `level.proto` and `level.fragment`; returns the offset of the
 * upper-layer header, -1 when there is none to parse (a later fragment, no next header), or
 * a ParseError.
 */
export function walkIpv6Ext(
  buf: Uint8Array,
  off: number,
  ipEnd: number,
  level: HeaderLevel,
): number | ParseError {
  let nh = buf[off + NEXT_HEADER];
  let at = off + IPV6_HEADER_LEN;
  level.fragment = FRAG_NONE;
  let sawFragment = false;
  for (let n = 0; isIpv6Extension(nh); n++) {
    if (n >= MAX_EXT_HEADERS) return parseError("malformed", "ipv6.ext-chain", at);
    if (nh === EXT_HOP_BY_HOP && n > 0) return parseError("malformed", "ipv6.hop-by-hop", at);
    if (ipEnd - at < 8) return parseError("truncated", "ipv6.ext", at);
    let len: number;
    if (nh === EXT_FRAGMENT) {
      if (sawFragment) return parseError("malformed", "ipv6.fragment", at);
      sawFragment = true;
      len = FRAGMENT_HEADER_LEN;
      const fo = u16(buf, at + 2);
      if ((fo & 0xfff8) !== 0) {
        level.fragment = FRAG_LATER;
        level.proto = buf[at];
        return -1;
      }
      // An atomic fragment (offset 0, no M flag) carries the whole datagram.
      level.fragment = (fo & 1) ? FRAG_FIRST : FRAG_NONE;
    } else if (nh === EXT_AH) {
      len = (buf[at + 1] + 2) * 4;
    } else {
      len = (buf[at + 1] + 1) * 8;
    }
    if (len > ipEnd - at) return parseError("truncated", "ipv6.ext", at);
    nh = buf[at];
    at += len;
  }
  level.proto = nh;
  return nh === EXT_NO_NEXT ? -1 : at;
}

/** Validates the fixed header once and returns a view. Never throws. */
export function parseIpv6(buf: Uint8Array, off: number, end: number): Ipv6View | ParseError {
  return checkIpv6(buf, off, end) ?? new Ipv6View(buf, off);
}

/** Reads a view into a Repr. */
export function ipv6Repr(v: Ipv6View): Ipv6Repr {
  return {
    src: v.src.slice(),
    dst: v.dst.slice(),
    nextHeader: v.nextHeader,
    payloadLen: v.payloadLen,
    hopLimit: v.hopLimit,
    trafficClass: v.trafficClass,
    flowLabel: v.flowLabel,
  };
}

/** Bytes `emitIpv6` writes (the fixed header). */
export function ipv6BufferLen(_r: Ipv6Repr): number {
  return IPV6_HEADER_LEN;
}

/** Writes the fixed header at `off`; returns its length. */
export function emitIpv6(r: Ipv6Repr, buf: Uint8Array, off: number): number {
  setU32(
    buf,
    off + VER_TC_FL,
    ((6 << 28) | ((r.trafficClass ?? 0) << 20) | ((r.flowLabel ?? 0) & 0xfffff)) >>> 0,
  );
  setU16(buf, off + PAYLOAD_LEN, r.payloadLen);
  buf[off + NEXT_HEADER] = r.nextHeader;
  buf[off + HOP_LIMIT] = r.hopLimit ?? 64;
  copyBytes(r.src, 0, buf, off + SRC, 16);
  copyBytes(r.dst, 0, buf, off + DST, 16);
  return IPV6_HEADER_LEN;
}

/** Bytes `emitIpv6Ext` writes. */
export function ipv6ExtBufferLen(r: Ipv6ExtRepr): number {
  if (r.type === EXT_FRAGMENT) return FRAGMENT_HEADER_LEN;
  const body = 2 + (r.data?.length ?? 0);
  return r.type === EXT_AH ? (body + 3) & ~3 : Math.max(8, (body + 7) & ~7);
}

/** Writes one extension header at `off`; returns its length. */
export function emitIpv6Ext(r: Ipv6ExtRepr, buf: Uint8Array, off: number): number {
  const len = ipv6ExtBufferLen(r);
  buf.fill(0, off, off + len);
  buf[off] = r.nextHeader;
  if (r.type === EXT_FRAGMENT) {
    setU16(buf, off + 2, ((r.fragOffset ?? 0) & 0xfff8) | (r.moreFragments ? 1 : 0));
    setU32(buf, off + 4, r.ident ?? 0);
    return len;
  }
  buf[off + 1] = r.type === EXT_AH ? len / 4 - 2 : len / 8 - 1;
  if (r.data) buf.set(r.data, off + 2);
  return len;
}
