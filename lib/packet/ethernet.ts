// Ethernet II with an optional 802.1Q tag.

import { HeaderView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { copyBytes, u16 } from "./bytes.ts";

/** Field offsets from the start of the Ethernet header. */
export const ETH_DST = 0, ETH_SRC = 6, ETH_ETHERTYPE = 12, ETH_TCI = 14, ETH_INNER_ETHERTYPE = 16;
const DST = ETH_DST, SRC = ETH_SRC, ETHERTYPE = ETH_ETHERTYPE, TCI = ETH_TCI;
const INNER_ETHERTYPE = ETH_INNER_ETHERTYPE;
/** Untagged Ethernet header length. */
export const ETHERNET_HEADER_LEN = 14;
/** Length of one 802.1Q tag. */
export const VLAN_TAG_LEN = 4;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;
/** Geneve protocol type for an encapsulated Ethernet frame ("transparent Ethernet bridging"). */
export const ETHERTYPE_TEB = 0x6558;

/** A read/write view of an Ethernet header at `off` in `buf`; validated by `parseEthernet`. */
export class EthernetView extends HeaderView {
  /** Destination MAC (a subarray: no copy). */
  get dst(): Uint8Array {
    return this.buf.subarray(this.off + DST, this.off + DST + 6);
  }
  set dst(m: Uint8Array) {
    this.buf.set(m.subarray(0, 6), this.off + DST);
  }
  /** Source MAC (a subarray: no copy). */
  get src(): Uint8Array {
    return this.buf.subarray(this.off + SRC, this.off + SRC + 6);
  }
  set src(m: Uint8Array) {
    this.buf.set(m.subarray(0, 6), this.off + SRC);
  }
  /** True when the destination MAC equals `a[aOff..aOff+6]` (no allocation). */
  dstEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(DST, 6, a, aOff);
  }
  /** Copies the destination MAC into `out[outOff..]` (no allocation). */
  copyDstInto(out: Uint8Array, outOff = 0): void {
    this.copyField(DST, 6, out, outOff);
  }
  /** Writes the destination MAC from `a[aOff..]` (no allocation). */
  setDstFrom(a: Uint8Array, aOff = 0): void {
    this.setField(DST, 6, a, aOff);
  }
  /** True when the source MAC equals `a[aOff..aOff+6]` (no allocation). */
  srcEquals(a: Uint8Array, aOff = 0): boolean {
    return this.fieldEquals(SRC, 6, a, aOff);
  }
  /** Copies the source MAC into `out[outOff..]` (no allocation). */
  copySrcInto(out: Uint8Array, outOff = 0): void {
    this.copyField(SRC, 6, out, outOff);
  }
  /** Writes the source MAC from `a[aOff..]` (no allocation). */
  setSrcFrom(a: Uint8Array, aOff = 0): void {
    this.setField(SRC, 6, a, aOff);
  }
  /** True when the destination is a group (multicast or broadcast) address. */
  get dstIsGroup(): boolean {
    return (this.buf[this.off + DST] & 1) !== 0;
  }
  /** True when an 802.1Q tag follows the addresses. */
  get tagged(): boolean {
    return u16(this.buf, this.off + ETHERTYPE) === ETHERTYPE_VLAN;
  }
  /** VLAN id, -1 when untagged. */
  get vlan(): number {
    return this.tagged ? u16(this.buf, this.off + TCI) & 0x0fff : -1;
  }
  /** Priority code point, 0 when untagged. */
  get pcp(): number {
    return this.tagged ? this.buf[this.off + TCI] >>> 5 : 0;
  }
  /** EtherType of the payload (after any tag). */
  get etherType(): number {
    return u16(this.buf, this.off + (this.tagged ? INNER_ETHERTYPE : ETHERTYPE));
  }
  set etherType(v: number) {
    const at = this.off + (this.tagged ? INNER_ETHERTYPE : ETHERTYPE);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }
  /** Header length including any tag. */
  get headerLen(): number {
    return this.tagged ? ETHERNET_HEADER_LEN + VLAN_TAG_LEN : ETHERNET_HEADER_LEN;
  }
}

/** Plain values of an Ethernet header. */
export interface EthernetRepr {
  src: Uint8Array;
  dst: Uint8Array;
  etherType: number;
  /** VLAN id; absent or negative for untagged. */
  vlan?: number;
  pcp?: number;
}

/** Checks lengths once; afterwards every accessor is in bounds. Never throws. */
export function parseEthernet(
  buf: Uint8Array,
  off: number,
  end: number,
): EthernetView | ParseError {
  if (end - off < ETHERNET_HEADER_LEN) return parseError("truncated", "ethernet", off);
  if (u16(buf, off + ETHERTYPE) === ETHERTYPE_VLAN) {
    if (end - off < ETHERNET_HEADER_LEN + VLAN_TAG_LEN) {
      return parseError("truncated", "vlan", off + ETHERTYPE);
    }
    if (u16(buf, off + INNER_ETHERTYPE) === ETHERTYPE_VLAN) {
      return parseError("unsupported", "vlan", off + INNER_ETHERTYPE);
    }
  }
  return new EthernetView(buf, off);
}

/** Reads a view into a Repr. */
export function ethernetRepr(v: EthernetView): EthernetRepr {
  return {
    src: v.src.slice(),
    dst: v.dst.slice(),
    etherType: v.etherType,
    vlan: v.vlan,
    pcp: v.pcp,
  };
}

/** Bytes `emitEthernet` writes. */
export function ethernetBufferLen(r: EthernetRepr): number {
  return r.vlan !== undefined && r.vlan >= 0
    ? ETHERNET_HEADER_LEN + VLAN_TAG_LEN
    : ETHERNET_HEADER_LEN;
}

/** Writes the header at `off`; returns its length. */
export function emitEthernet(r: EthernetRepr, buf: Uint8Array, off: number): number {
  copyBytes(r.dst, 0, buf, off + DST, 6);
  copyBytes(r.src, 0, buf, off + SRC, 6);
  let at = off + ETHERTYPE;
  if (r.vlan !== undefined && r.vlan >= 0) {
    buf[at] = ETHERTYPE_VLAN >>> 8;
    buf[at + 1] = ETHERTYPE_VLAN & 0xff;
    const tci = ((r.pcp ?? 0) << 13) | (r.vlan & 0x0fff);
    buf[at + 2] = tci >>> 8;
    buf[at + 3] = tci;
    at += VLAN_TAG_LEN;
  }
  buf[at] = r.etherType >>> 8;
  buf[at + 1] = r.etherType;
  return at + 2 - off;
}
