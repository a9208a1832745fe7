// IPv4 (RFC 791): header with options, header checksum, fragments.

import { HeaderView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { copyBytes, setU16, u16, u32 } from "./bytes.ts";
import { fillIpv4HeaderChecksum, verifyIpv4Header } from "./checksum.ts";

/** Field offsets from the start of the IPv4 header. */
export const IPV4_TOS = 1,
  IPV4_TOTAL_LEN = 2,
  IPV4_IDENT = 4,
  IPV4_FLAGS_FRAG = 6,
  IPV4_TTL = 8,
  IPV4_PROTO = 9,
  IPV4_CHECKSUM = 10,
  IPV4_SRC = 12,
  IPV4_DST = 16;
const VER_IHL = 0, TOS = IPV4_TOS, TOTAL_LEN = IPV4_TOTAL_LEN, IDENT = IPV4_IDENT;
const FLAGS_FRAG = IPV4_FLAGS_FRAG, TTL = IPV4_TTL, PROTO = IPV4_PROTO, CHECKSUM = IPV4_CHECKSUM;
const SRC = IPV4_SRC, DST = IPV4_DST;
/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;
/** The don't-fragment bit of the flags/fragment-offset field. */
export const IPV4_DF = 0x4000;
const FLAG_DF = IPV4_DF, FLAG_MF = 0x2000, FRAG_MASK = 0x1fff;

/** A read/write view of an IPv4 header; validated by `parseIpv4`. */
export class Ipv4View extends HeaderView {
  get version(): number {
    return this.buf[this.off + VER_IHL] >>> 4;
  }
  /** Header length in bytes (IHL × 4). */
  get headerLen(): number {
    return (this.buf[this.off + VER_IHL] & 0x0f) * 4;
  }
  get tos(): number {
    return this.buf[this.off + TOS];
  }
  set tos(v: number) {
    this.buf[this.off + TOS] = v;
  }
  get totalLen(): number {
    return u16(this.buf, this.off + TOTAL_LEN);
  }
  set totalLen(v: number) {
    setU16(this.buf, this.off + TOTAL_LEN, v);
  }
  get ident(): number {
    return u16(this.buf, this.off + IDENT);
  }
  set ident(v: number) {
    setU16(this.buf, this.off + IDENT, v);
  }
  get dontFragment(): boolean {
    return (u16(this.buf, this.off + FLAGS_FRAG) & FLAG_DF) !== 0;
  }
  get moreFragments(): boolean {
    return (u16(this.buf, this.off + FLAGS_FRAG) & FLAG_MF) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragOffset(): number {
    return (u16(this.buf, this.off + FLAGS_FRAG) & FRAG_MASK) * 8;
  }
  get ttl(): number {
    return this.buf[this.off + TTL];
  }
  set ttl(v: number) {
    this.buf[this.off + TTL] = v;
  }
  get proto(): number {
    return this.buf[this.off + PROTO];
  }
  set proto(v: number) {
    this.buf[this.off + PROTO] = v;
  }
  get checksum(): number {
    return u16(this.buf, this.off + CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.buf, this.off + CHECKSUM, v);
  }
  /** Source address (subarray, no copy). */
  get src(): Uint8Array {
    return this.buf.subarray(this.off + SRC, this.off + SRC + 4);
  }
  /** Destination address (subarray, no copy). */
  get dst(): Uint8Array {
    return this.buf.subarray(this.off + DST, this.off + DST + 4);
  }
  /** True when the source address equals `a[aOff..aOff+4]` (no allocation). */
  srcEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(SRC, 4, a, aOff);
  }
  /** Copies the source address into `out[outOff..]` (no allocation). */
  copySrcInto(out: Uint8Array, outOff = 0): void {
    this.copyField(SRC, 4, out, outOff);
  }
  /** Writes the source address from `a[aOff..]` (no allocation). */
  setSrcFrom(a: Uint8Array, aOff = 0): void {
    this.setField(SRC, 4, a, aOff);
  }
  /** True when the destination address equals `a[aOff..aOff+4]` (no allocation). */
  dstEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(DST, 4, a, aOff);
  }
  /** Copies the destination address into `out[outOff..]` (no allocation). */
  copyDstInto(out: Uint8Array, outOff = 0): void {
    this.copyField(DST, 4, out, outOff);
  }
  /** Writes the destination address from `a[aOff..]` (no allocation). */
  setDstFrom(a: Uint8Array, aOff = 0): void {
    this.setField(DST, 4, a, aOff);
  }
  /** Source address as a u32 (no allocation). */
  get srcWord(): number {
    return u32(this.buf, this.off + SRC);
  }
  /** Destination address as a u32 (no allocation). */
  get dstWord(): number {
    return u32(this.buf, this.off + DST);
  }
  /** Option bytes (subarray, no copy). */
  get options(): Uint8Array {
    return this.buf.subarray(this.off + IPV4_HEADER_LEN, this.off + this.headerLen);
  }
  /** True when the header checksum is correct. */
  verifyChecksum(): boolean {
    return verifyIpv4Header(this.buf, this.off);
  }
  /** Recomputes the header checksum. */
  fillChecksum(): void {
    fillIpv4HeaderChecksum(this.buf, this.off);
  }
}

/** Plain values of an IPv4 header. */
export interface Ipv4Repr {
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  /** Bytes after the header (sets the total length). */
  payloadLen: number;
  ttl?: number;
  tos?: number;
  ident?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Raw option bytes, zero-padded to a multiple of 4 on emit. */
  options?: Uint8Array;
}

/**
 * Checks version, header length and total length against [off, end). Never throws.
 * Padding after the datagram is allowed; the datagram ends at off + total length.
 */
export function checkIpv4(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < IPV4_HEADER_LEN) return parseError("truncated", "ipv4", off);
  const vi = buf[off];
  if (vi >>> 4 !== 4) return parseError("malformed", "ipv4.version", off);
  const hlen = (vi & 0x0f) * 4;
  if (hlen < IPV4_HEADER_LEN) return parseError("malformed", "ipv4.ihl", off);
  if (hlen > end - off) return parseError("truncated", "ipv4.options", off + IPV4_HEADER_LEN);
  const total = u16(buf, off + TOTAL_LEN);
  if (total < hlen) return parseError("malformed", "ipv4.length", off + TOTAL_LEN);
  if (total > end - off) return parseError("truncated", "ipv4.length", off + TOTAL_LEN);
  return null;
}

/** Validates once and returns a view. Never throws. */
export function parseIpv4(buf: Uint8Array, off: number, end: number): Ipv4View | ParseError {
  return checkIpv4(buf, off, end) ?? new Ipv4View(buf, off);
}

/** Reads a view into a Repr. */
export function ipv4Repr(v: Ipv4View): Ipv4Repr {
  return {
    src: v.src.slice(),
    dst: v.dst.slice(),
    proto: v.proto,
    payloadLen: v.totalLen - v.headerLen,
    ttl: v.ttl,
    tos: v.tos,
    ident: v.ident,
    dontFragment: v.dontFragment,
    moreFragments: v.moreFragments,
    fragOffset: v.fragOffset,
    options: v.options.slice(),
  };
}

/** Bytes `emitIpv4` writes (the header only). */
export function ipv4BufferLen(r: Ipv4Repr): number {
  return IPV4_HEADER_LEN + (((r.options?.length ?? 0) + 3) & ~3);
}

/** Writes the header (checksum included) at `off`; returns its length. */
export function emitIpv4(r: Ipv4Repr, buf: Uint8Array, off: number): number {
  const hlen = ipv4BufferLen(r);
  buf.fill(0, off, off + hlen);
  buf[off + VER_IHL] = 0x40 | (hlen / 4);
  buf[off + TOS] = r.tos ?? 0;
  setU16(buf, off + TOTAL_LEN, hlen + r.payloadLen);
  setU16(buf, off + IDENT, r.ident ?? 0);
  setU16(
    buf,
    off + FLAGS_FRAG,
    (r.dontFragment ? FLAG_DF : 0) | (r.moreFragments ? FLAG_MF : 0) |
      (((r.fragOffset ?? 0) / 8) & FRAG_MASK),
  );
  buf[off + TTL] = r.ttl ?? 64;
  buf[off + PROTO] = r.proto;
  copyBytes(r.src, 0, buf, off + SRC, 4);
  copyBytes(r.dst, 0, buf, off + DST, 4);
  if (r.options) buf.set(r.options, off + IPV4_HEADER_LEN);
  fillIpv4HeaderChecksum(buf, off);
  return hlen;
}
