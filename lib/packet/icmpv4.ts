// ICMP for IPv4 (RFC 792): echo, destination unreachable, time exceeded (with the embedded
// offending datagram after the 8-byte header).

import { type ParseError, parseError } from "./error.ts";
import { setU16, u16 } from "./bytes.ts";
import { emitIcmpCommon, icmpCommonRepr, IcmpHeaderView } from "./icmp_header.ts";

const IDENT = 4, NEXT_HOP_MTU = 6;
/** Length of the ICMP header (type, code, checksum, 4 bytes of rest-of-header). */
export const ICMP_HEADER_LEN = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAM_PROBLEM = 12;
/** Destination-unreachable code "fragmentation needed and DF set" (carries the next-hop MTU). */
export const ICMP_FRAG_NEEDED = 4;

/** True for types whose rest-of-header is (identifier, sequence). */
export function isIcmpv4Echo(type: number): boolean {
  return type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY;
}

/** True for error types that embed the offending datagram. */
export function isIcmpv4Error(type: number): boolean {
  return type === ICMP_DEST_UNREACHABLE || type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAM_PROBLEM || type === ICMP_REDIRECT;
}

/** A read/write view of an ICMPv4 header; validated by `parseIcmpv4`. */
export class Icmpv4View extends IcmpHeaderView {
  /** Next-hop MTU of a "fragmentation needed" error. */
  get nextHopMtu(): number {
    return u16(this.buf, this.off + NEXT_HOP_MTU);
  }
}

/** Plain values of an ICMPv4 header. */
export interface Icmpv4Repr {
  type: number;
  code?: number;
  /** Echo identifier and sequence. */
  ident?: number;
  seq?: number;
  /** Next-hop MTU for "fragmentation needed". */
  mtu?: number;
  /** Raw rest-of-header; overrides ident/seq/mtu when set. */
  restOfHeader?: number;
}

/** Checks the fixed header against [off, end). Never throws. */
export function checkIcmpv4(_buf: Uint8Array, off: number, end: number): ParseError | null {
  return end - off < ICMP_HEADER_LEN ? parseError("truncated", "icmpv4", off) : null;
}

/** Validates once and returns a view. Never throws. */
export function parseIcmpv4(buf: Uint8Array, off: number, end: number): Icmpv4View | ParseError {
  return checkIcmpv4(buf, off, end) ?? new Icmpv4View(buf, off);
}

/** Reads a view into a Repr. */
export function icmpv4Repr(v: Icmpv4View): Icmpv4Repr {
  return icmpCommonRepr(v, isIcmpv4Echo(v.type));
}

/** Bytes `emitIcmpv4` writes. */
export function icmpv4BufferLen(_r: Icmpv4Repr): number {
  return ICMP_HEADER_LEN;
}

/** Writes the header with a zero checksum at `off`; returns its length. */
export function emitIcmpv4(r: Icmpv4Repr, buf: Uint8Array, off: number): number {
  if (!emitIcmpCommon(r, buf, off, isIcmpv4Echo(r.type))) {
    setU16(buf, off + IDENT, 0);
    setU16(buf, off + NEXT_HOP_MTU, r.mtu ?? 0);
  }
  return ICMP_HEADER_LEN;
}
