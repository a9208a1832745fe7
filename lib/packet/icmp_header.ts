// The 8-byte header ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) share: type, code, checksum and
// four bytes of rest-of-header (echo identifier + sequence, an MTU, a pointer, ...).

import { HeaderView } from "./view.ts";
import { setU16, setU32, u16, u32 } from "./bytes.ts";

/** Field offsets from the start of the ICMP header. */
export const ICMP_TYPE = 0, ICMP_CODE = 1, ICMP_CHECKSUM = 2, ICMP_IDENT = 4, ICMP_SEQ = 6;
const TYPE = ICMP_TYPE, CODE = ICMP_CODE, CHECKSUM = ICMP_CHECKSUM, IDENT = ICMP_IDENT;
const SEQ = ICMP_SEQ;
/** Length of the fixed ICMP header. */
export const ICMP_COMMON_HEADER_LEN = 8;

/** A read/write view of the header fields both ICMP versions share. */
export class IcmpHeaderView extends HeaderView {
  get type(): number {
    return this.buf[this.off + TYPE];
  }
  set type(v: number) {
    this.buf[this.off + TYPE] = v;
  }
  get code(): number {
    return this.buf[this.off + CODE];
  }
  set code(v: number) {
    this.buf[this.off + CODE] = v;
  }
  get checksum(): number {
    return u16(this.buf, this.off + CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.buf, this.off + CHECKSUM, v);
  }
  /** Echo identifier. */
  get ident(): number {
    return u16(this.buf, this.off + IDENT);
  }
  set ident(v: number) {
    setU16(this.buf, this.off + IDENT, v);
  }
  /** Echo sequence number. */
  get seq(): number {
    return u16(this.buf, this.off + SEQ);
  }
  /** The 4 bytes after the checksum as one number. */
  get restOfHeader(): number {
    return u32(this.buf, this.off + IDENT);
  }
  /** Offset of the data after the header (echo data, an embedded packet, NDP fields). */
  get dataOff(): number {
    return this.off + ICMP_COMMON_HEADER_LEN;
  }
}

/** The Repr fields both ICMP versions share. */
export interface IcmpCommonRepr {
  type: number;
  code?: number;
  ident?: number;
  seq?: number;
  restOfHeader?: number;
}

/** Reads a view into a Repr: identifier and sequence for an echo, else the raw rest. */
export function icmpCommonRepr(v: IcmpHeaderView, echo: boolean): IcmpCommonRepr {
  if (echo) return { type: v.type, code: v.code, ident: v.ident, seq: v.seq };
  return { type: v.type, code: v.code, restOfHeader: v.restOfHeader };
}

/**
 * Writes type, code, a zero checksum and, for a raw rest or an echo, the rest of the header;
 * returns false when the rest is the caller's (a version-specific MTU or pointer).
 */
export function emitIcmpCommon(
  r: IcmpCommonRepr,
  buf: Uint8Array,
  off: number,
  echo: boolean,
): boolean {
  buf[off + TYPE] = r.type;
  buf[off + CODE] = r.code ?? 0;
  setU16(buf, off + CHECKSUM, 0);
  if (r.restOfHeader !== undefined) setU32(buf, off + IDENT, r.restOfHeader);
  else if (echo) {
    setU16(buf, off + IDENT, r.ident ?? 0);
    setU16(buf, off + SEQ, r.seq ?? 0);
  } else return false;
  return true;
}
