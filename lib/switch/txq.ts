// A link's transmit queue for one datapath pass. Forwarded frames join it by swapping buffers
// with the receive batch (the frame is not copied); generated frames are written straight into
// a reserved slot. `flush` hands the whole batch to the link in one call. Towards a link that
// gathers, a frame may be continued by further slots (`join`: a GRO train sent from the
// buffers its segments arrived in, without copying them together).

import { FrameBatch, HEADROOM, type Link, MAX_JOINS, VNET_HDR_LEN } from "../link/link.ts";
import { DROP } from "./counters.ts";

/** Frames queued for one link. */
export class TxQueue {
  readonly batch: FrameBatch;
  /** Frames the link refused (also counted in `drops` as tx-full or port-down). */
  refused = 0;
  /** Slot of the frame queued last (a train's first slot), -1 when empty. */
  private head = -1;
  /** Bytes in the slots that continue the frame queued last. */
  private joined = 0;

  constructor(
    readonly link: Link,
    capacity: number,
    frameSize: number,
    vnet = false,
    /** The switch's drop counters, so refused frames are accounted like every other drop. */
    private readonly drops: Float64Array | null = null,
  ) {
    this.batch = new FrameBatch(capacity, frameSize, { vnet, joins: link.gather === true });
  }

  /** Slot of the frame queued last (continued by `batch.joins[slot]` slots), or -1. */
  get last(): number {
    return this.head;
  }

  /** Bytes of the frame queued last, the slots that continue it included. */
  get lastLen(): number {
    return this.batch.lens[this.head] + this.joined;
  }

  /**
   * Continues the frame queued last with `len` bytes at `rx.bufs[i][off]`, taking that buffer
   * by swap; false (nothing done) when the link cannot gather or there is no room left.
   */
  join(rx: FrameBatch, i: number, off: number, len: number): boolean {
    const b = this.batch, j = b.joins;
    if (j === null || this.head < 0 || b.count === b.capacity || j[this.head] >= MAX_JOINS) {
      return false;
    }
    j[this.take(rx, i, off, len)] = 0;
    j[this.head]++;
    this.joined += len;
    return true;
  }

  // Takes rx's buffer `i` into the next slot (rx gets the slot's spare); returns the slot.
  private take(rx: FrameBatch, i: number, off: number, len: number): number {
    const b = this.batch, k = b.count++;
    const mine = b.bufs[k];
    b.bufs[k] = rx.bufs[i];
    rx.bufs[i] = mine;
    b.offs[k] = off;
    b.lens[k] = len;
    return k;
  }

  /** Moves frame `i` of `rx` (at `off`, `len` bytes) into this queue by swapping buffers. */
  push(rx: FrameBatch, i: number, off: number, len: number): void {
    const b = this.batch;
    if (b.count === b.capacity) this.flush();
    const k = this.head = this.take(rx, i, off, len);
    this.joined = 0;
    if (b.joins !== null) b.joins[k] = 0;
    // The virtio-net header (checksum/GSO state) travels with a forwarded frame.
    const hv = b.vnet;
    if (hv !== null) {
      const rv = rx.vnet, o = k * VNET_HDR_LEN, ro = i * VNET_HDR_LEN;
      if (rv !== null) { for (let j = 0; j < VNET_HDR_LEN; j++) hv[o + j] = rv[ro + j]; }
      else hv.fill(0, o, o + VNET_HDR_LEN);
    }
  }

  /** No later frame continues the frame queued last (it leaves as queued). */
  seal(): void {
    this.head = -1;
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
    if (b.joins !== null) b.joins[b.count] = 0;
    this.head = b.count++;
    this.joined = 0;
  }

  /** Sends what is queued; returns how many slots the link refused. */
  flush(): number {
    const b = this.batch;
    if (b.count === 0) return 0;
    this.head = -1;
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
