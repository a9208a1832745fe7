// The base of every header view: a buffer and an offset, re-pointable without allocating, so the
// datapath keeps one view per header slot for the life of the process.

import { setU16, u16 } from "./bytes.ts";

/** A view of a header at `off` in `buf`; subclasses add the named fields. */
export class HeaderView {
  constructor(public buf: Uint8Array, public off: number) {}
  /** Re-points the view without allocating. */
  reset(buf: Uint8Array, off: number): this {
    this.buf = buf;
    this.off = off;
    return this;
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

/** TCP and UDP both start with source and destination port. */
export class PortsView extends HeaderView {
  get srcPort(): number {
    return u16(this.buf, this.off);
  }
  set srcPort(v: number) {
    setU16(this.buf, this.off, v);
  }
  get dstPort(): number {
    return u16(this.buf, this.off + 2);
  }
  set dstPort(v: number) {
    setU16(this.buf, this.off + 2, v);
  }
}
