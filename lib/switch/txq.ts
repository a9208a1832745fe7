// A link's transmit queue for one datapath pass. Forwarded frames join it by swapping buffers
// with the receive batch (the frame is not copied); generated frames are written straight into
// a reserved slot. `flush` hands the whole batch to the link in one call.

import { FrameBatch, HEADROOM, type Link, VNET_HDR_LEN } from "../link/link.ts";
import { DROP } from "./counters.ts";

/** Frames queued for one link. */
export class TxQueue {
  readonly batch: FrameBatch;
  /** Frames the link refused (also counted in `drops` as tx-full or port-down). */
  refused = 0;

  constructor(
    readonly link: Link,
    capacity: number,
    frameSize: number,
    vnet = false,
    /** The switch's drop counters, so refused frames are accounted like every other drop. */
    private readonly drops: Float64Array | null = null,
  ) {
    this.batch = new FrameBatch(capacity, frameSize, { vnet });
  }

  /** Moves frame `i` of `rx` (at `off`, `len` bytes) into this queue by swapping buffers. */
  push(rx: FrameBatch, i: number, off: number, len: number): void {
    const b = this.batch;
    if (b.count === b.capacity) this.flush();
    const k = b.count++;
    const mine = b.bufs[k];
    b.bufs[k] = rx.bufs[i];
    rx.bufs[i] = mine;
    b.offs[k] = off;
    b.lens[k] = len;
    // The virtio-net header (checksum/GSO state) travels with a forwarded frame.
    const hv = b.vnet;
    if (hv !== null) {
      const rv = rx.vnet, o = k * VNET_HDR_LEN, ro = i * VNET_HDR_LEN;
      if (rv !== null) { for (let j = 0; j < VNET_HDR_LEN; j++) hv[o + j] = rv[ro + j]; }
      else hv.fill(0, o, o + VNET_HDR_LEN);
    }
  }

  /** A free slot's buffer to write a frame at HEADROOM; finish with `commit(len)`. */
  reserve(): Uint8Array {
    const b = this.batch;
    if (b.count === b.capacity) this.flush();
    return b.bufs[b.count];
  }

  /** Queues the frame written into the reserved slot. */
  commit(len: number): void {
    const b = this.batch;
    b.offs[b.count] = HEADROOM;
    b.lens[b.count] = len;
    // Generated frames are complete: a zero header.
    b.vnet?.fill(0, b.count * VNET_HDR_LEN, (b.count + 1) * VNET_HDR_LEN);
    b.count++;
  }

  /** Sends what is queued; returns how many frames the link refused. */
  flush(): number {
    const b = this.batch;
    if (b.count === 0) return 0;
    const sent = this.link.send(b, b.count);
    const lost = b.count - sent;
    this.refused += lost;
    if (lost > 0 && this.drops !== null) {
      this.drops[this.link.isUp() ? DROP["tx-full"] : DROP["port-down"]] += lost;
    }
    b.count = 0;
    return lost;
  }
}
