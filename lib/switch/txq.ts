// A link's transmit queue for one datapath pass. Forwarded frames join it by swapping buffers
// with the receive batch (the frame is not copied); generated frames are written straight into
// a reserved slot. `flush` hands the whole batch to the link in one call.

import { FrameBatch, HEADROOM, type Link } from "../link/link.ts";

/** Frames queued for one link. */
export class TxQueue {
  readonly batch: FrameBatch;
  /** Frames the link refused (counted by the switch as tx-full/port-down). */
  refused = 0;

  constructor(readonly link: Link, capacity: number, frameSize: number) {
    this.batch = new FrameBatch(capacity, frameSize);
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
    b.count++;
  }

  /** Sends what is queued; returns how many frames the link refused. */
  flush(): number {
    const b = this.batch;
    if (b.count === 0) return 0;
    const sent = this.link.send(b, b.count);
    const lost = b.count - sent;
    this.refused += lost;
    b.count = 0;
    return lost;
  }
}
