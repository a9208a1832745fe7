// ARP for Ethernet/IPv4 (RFC 826), the only kind a VPC gateway answers.

import { HeaderView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { setU16, u16 } from "./bytes.ts";

/** Field offsets from the start of the ARP packet. */
export const ARP_OPER = 6, ARP_SHA = 8, ARP_SPA = 14, ARP_THA = 18, ARP_TPA = 24;
const HTYPE = 0, PTYPE = 2, HLEN = 4, PLEN = 5, OPER = ARP_OPER, SHA = ARP_SHA, SPA = ARP_SPA;
const THA = ARP_THA, TPA = ARP_TPA;
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
  /** True when the sender MAC equals `a[aOff..aOff+6]` (no allocation). */
  senderMacEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(SHA, 6, a, aOff);
  }
  /** Copies the sender MAC into `out[outOff..]` (no allocation). */
  copySenderMacInto(out: Uint8Array, outOff = 0): void {
    this.copyField(SHA, 6, out, outOff);
  }
  /** Writes the sender MAC from `a[aOff..]` (no allocation). */
  setSenderMacFrom(a: Uint8Array, aOff = 0): void {
    this.setField(SHA, 6, a, aOff);
  }
  /** True when the sender IP equals `a[aOff..aOff+4]` (no allocation). */
  senderIpEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(SPA, 4, a, aOff);
  }
  /** Copies the sender IP into `out[outOff..]` (no allocation). */
  copySenderIpInto(out: Uint8Array, outOff = 0): void {
    this.copyField(SPA, 4, out, outOff);
  }
  /** Writes the sender IP from `a[aOff..]` (no allocation). */
  setSenderIpFrom(a: Uint8Array, aOff = 0): void {
    this.setField(SPA, 4, a, aOff);
  }
  /** True when the target MAC equals `a[aOff..aOff+6]` (no allocation). */
  targetMacEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(THA, 6, a, aOff);
  }
  /** Copies the target MAC into `out[outOff..]` (no allocation). */
  copyTargetMacInto(out: Uint8Array, outOff = 0): void {
    this.copyField(THA, 6, out, outOff);
  }
  /** Writes the target MAC from `a[aOff..]` (no allocation). */
  setTargetMacFrom(a: Uint8Array, aOff = 0): void {
    this.setField(THA, 6, a, aOff);
  }
  /** True when the target IP equals `a[aOff..aOff+4]` (no allocation). */
  targetIpEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(TPA, 4, a, aOff);
  }
  /** Copies the target IP into `out[outOff..]` (no allocation). */
  copyTargetIpInto(out: Uint8Array, outOff = 0): void {
    this.copyField(TPA, 4, out, outOff);
  }
  /** Writes the target IP from `a[aOff..]` (no allocation). */
  setTargetIpFrom(a: Uint8Array, aOff = 0): void {
    this.setField(TPA, 4, a, aOff);
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
