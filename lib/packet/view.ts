// The base of every header view: a buffer and an offset, re-pointable without allocating, so the
// datapath keeps one view per header slot for the life of the process.

import { bytesEqual, copyBytes, setU16, u16 } from "./bytes.ts";

/** A view of a header at `off` in `buf`; subclasses add the named fields. */
export class HeaderView {
  constructor(public buf: Uint8Array, public off: number) {}
  /** Re-points the view without allocating. */
  reset(buf: Uint8Array, off: number): this {
    this.buf = buf;
    this.off = off;
    return this;
  }
  /** True when the `len` bytes at field offset `at` equal `other[otherOff..]`; no allocation. */
  protected fieldEquals(at: number, len: number, other: Uint8Array, otherOff: number): boolean {
    return bytesEqual(this.buf, this.off + at, other, otherOff, len);
  }
  /** Copies the `len` bytes at field offset `at` into `out[outOff..]`; no allocation. */
  protected copyField(at: number, len: number, out: Uint8Array, outOff: number): void {
    copyBytes(this.buf, this.off + at, out, outOff, len);
  }
  /** Writes `len` bytes from `src[srcOff..]` at field offset `at`; no allocation. */
  protected setField(at: number, len: number, src: Uint8Array, srcOff: number): void {
    copyBytes(src, srcOff, this.buf, this.off + at, len);
  }
}

/** A view of a message bounded by `end` (DHCP, DHCPv6, NDP: option lists run to the end). */
export class BoundedView {
  constructor(public buf: Uint8Array, public off: number, public end: number) {}
  /** Re-points the view without allocating. */
  reset(buf: Uint8Array, off: number, end: number): this {
    this.buf = buf;
    this.off = off;
    this.end = end;
    return this;
  }
}

/** Offsets of the port fields TCP and UDP share. */
export const L4_SRC_PORT = 0, L4_DST_PORT = 2;

/** TCP and UDP both start with source and destination port. */
export class PortsView extends HeaderView {
  get srcPort(): number {
    return u16(this.buf, this.off + L4_SRC_PORT);
  }
  set srcPort(v: number) {
    setU16(this.buf, this.off + L4_SRC_PORT, v);
  }
  get dstPort(): number {
    return u16(this.buf, this.off + L4_DST_PORT);
  }
  set dstPort(v: number) {
    setU16(this.buf, this.off + L4_DST_PORT, v);
  }
}
