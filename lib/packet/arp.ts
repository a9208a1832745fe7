// ARP for Ethernet/IPv4 (RFC 826), the only kind a VPC gateway answers.

import { HeaderView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { setU16, u16 } from "./bytes.ts";

const HTYPE = 0, PTYPE = 2, HLEN = 4, PLEN = 5, OPER = 6, SHA = 8, SPA = 14, THA = 18, TPA = 24;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

/** A read/write view of an Ethernet/IPv4 ARP packet; validated by `parseArp`. */
export class ArpView extends HeaderView {
  get operation(): number {
    return u16(this.buf, this.off + OPER);
  }
  set operation(v: number) {
    setU16(this.buf, this.off + OPER, v);
  }
  /** Sender hardware address (subarray, no copy). */
  get senderMac(): Uint8Array {
    return this.buf.subarray(this.off + SHA, this.off + SHA + 6);
  }
  /** Sender protocol address (subarray, no copy). */
  get senderIp(): Uint8Array {
    return this.buf.subarray(this.off + SPA, this.off + SPA + 4);
  }
  /** Target hardware address (subarray, no copy). */
  get targetMac(): Uint8Array {
    return this.buf.subarray(this.off + THA, this.off + THA + 6);
  }
  /** Target protocol address (subarray, no copy). */
  get targetIp(): Uint8Array {
    return this.buf.subarray(this.off + TPA, this.off + TPA + 4);
  }
}

/** Plain values of an ARP packet. */
export interface ArpRepr {
  operation: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

/** Checks the fixed Ethernet/IPv4 form in [off, end). Never throws. */
export function checkArp(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < ARP_LEN) return parseError("truncated", "arp", off);
  if (
    u16(buf, off + HTYPE) !== 1 || u16(buf, off + PTYPE) !== 0x0800 || buf[off + HLEN] !== 6 ||
    buf[off + PLEN] !== 4
  ) {
    return parseError("unsupported", "arp", off);
  }
  return null;
}

/** Validates once and returns a view. Never throws. */
export function parseArp(buf: Uint8Array, off: number, end: number): ArpView | ParseError {
  return checkArp(buf, off, end) ?? new ArpView(buf, off);
}

/** Reads a view into a Repr. */
export function arpRepr(v: ArpView): ArpRepr {
  return {
    operation: v.operation,
    senderMac: v.senderMac.slice(),
    senderIp: v.senderIp.slice(),
    targetMac: v.targetMac.slice(),
    targetIp: v.targetIp.slice(),
  };
}

/** Bytes `emitArp` writes. */
export function arpBufferLen(_r: ArpRepr): number {
  return ARP_LEN;
}

/** Writes the packet at `off`; returns its length. */
export function emitArp(r: ArpRepr, buf: Uint8Array, off: number): number {
  setU16(buf, off + HTYPE, 1);
  setU16(buf, off + PTYPE, 0x0800);
  buf[off + HLEN] = 6;
  buf[off + PLEN] = 4;
  setU16(buf, off + OPER, r.operation);
  buf.set(r.senderMac.subarray(0, 6), off + SHA);
  buf.set(r.senderIp.subarray(0, 4), off + SPA);
  buf.set(r.targetMac.subarray(0, 6), off + THA);
  buf.set(r.targetIp.subarray(0, 4), off + TPA);
  return ARP_LEN;
}
