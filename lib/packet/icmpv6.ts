// ICMPv6 (RFC 4443): echo, errors (destination unreachable, packet too big, time exceeded,
// parameter problem) with the embedded packet. NDP messages live in ndp.ts.

import { type ParseError, parseError } from "./error.ts";
import { setU32, u32 } from "./bytes.ts";
import { emitIcmpCommon, icmpCommonRepr, IcmpHeaderView } from "./icmp_header.ts";

const MTU = 4, POINTER = 4;
/** Length of the ICMPv6 header common to echo and error messages. */
export const ICMPV6_HEADER_LEN = 8;

export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_ROUTER_SOLICIT = 133;
export const ICMPV6_ROUTER_ADVERT = 134;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
export const ICMPV6_REDIRECT = 137;

/** True for echo request/reply. */
export function isIcmpv6Echo(type: number): boolean {
  return type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY;
}

/** True for error messages (types 0-127), which embed the offending packet. */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

/** True for the NDP messages of RFC 4861 (RS, RA, NS, NA, redirect). */
export function isNdp(type: number): boolean {
  return type >= ICMPV6_ROUTER_SOLICIT && type <= ICMPV6_REDIRECT;
}

/** Fixed header length of a message of `type` (options or embedded data follow it). */
export function icmpv6HeaderLen(type: number): number {
  switch (type) {
    case ICMPV6_ROUTER_ADVERT:
      return 16;
    case ICMPV6_NEIGHBOR_SOLICIT:
    case ICMPV6_NEIGHBOR_ADVERT:
      return 24;
    case ICMPV6_REDIRECT:
      return 40;
    default:
      // Errors, echo and RS have 4 bytes after the checksum; unknown informational types are
      // given the same so any message of at least 8 bytes parses.
      return ICMPV6_HEADER_LEN;
  }
}

/** A read/write view of an ICMPv6 header; validated by `parseIcmpv6`. */
export class Icmpv6View extends IcmpHeaderView {
  /** MTU of a packet-too-big message. */
  get mtu(): number {
    return u32(this.buf, this.off + MTU);
  }
  /** Pointer of a parameter-problem message. */
  get pointer(): number {
    return u32(this.buf, this.off + POINTER);
  }
}

/** Plain values of an ICMPv6 echo or error header. */
export interface Icmpv6Repr {
  type: number;
  code?: number;
  ident?: number;
  seq?: number;
  /** Packet-too-big MTU. */
  mtu?: number;
  /** Parameter-problem pointer. */
  pointer?: number;
  /** Raw rest-of-header; overrides the fields above when set. */
  restOfHeader?: number;
}

/** Checks the type's fixed header against [off, end). Never throws. */
export function checkIcmpv6(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < 4) return parseError("truncated", "icmpv6", off);
  if (end - off < icmpv6HeaderLen(buf[off])) return parseError("truncated", "icmpv6", off);
  return null;
}

/** Validates once and returns a view. Never throws. */
export function parseIcmpv6(buf: Uint8Array, off: number, end: number): Icmpv6View | ParseError {
  return checkIcmpv6(buf, off, end) ?? new Icmpv6View(buf, off);
}

/** Reads a view into a Repr. */
export function icmpv6Repr(v: Icmpv6View): Icmpv6Repr {
  return icmpCommonRepr(v, isIcmpv6Echo(v.type));
}

/** Bytes `emitIcmpv6` writes. */
export function icmpv6BufferLen(_r: Icmpv6Repr): number {
  return ICMPV6_HEADER_LEN;
}

/** Writes the header with a zero checksum at `off`; returns its length. */
export function emitIcmpv6(r: Icmpv6Repr, buf: Uint8Array, off: number): number {
  if (emitIcmpCommon(r, buf, off, isIcmpv6Echo(r.type))) return ICMPV6_HEADER_LEN;
  if (r.type === ICMPV6_PACKET_TOO_BIG) setU32(buf, off + MTU, r.mtu ?? 1280);
  else setU32(buf, off + POINTER, r.pointer ?? 0);
  return ICMPV6_HEADER_LEN;
}
