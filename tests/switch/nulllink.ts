// A Link for benchmarks and allocation probes: every recv hands out the same prepared frames
// (copied into the batch, as a real backend would), every send is counted and discarded.

import { type FrameBatch, HEADROOM, type Link, newLinkStats } from "../../lib/link/link.ts";
import { parseMac } from "../../lib/packet/bytes.ts";

/** Yields `frames` round-robin, `perRecv` at a time, while `armed`. */
export class NullLink implements Link {
  readonly kind = "null";
  readonly fd = -1;
  readonly mac: Uint8Array;
  readonly stats = newLinkStats();
  armed = true;
  /** Test of the allocation check itself: allocate one small object per received frame. */
  plantAllocation = false;
  /** Where a planted allocation is kept (so no optimisation can remove it). */
  planted: unknown = null;
  /** When set, every received frame carries this virtio-net header (an offloading TAP). */
  vnetHeader: Uint8Array | null = null;
  private next = 0;

  /** True when frames carry virtio-net headers (what the switch asks of a link). */
  get vnet(): boolean {
    return this.vnetHeader !== null;
  }

  /** An offloading link takes trains (`FrameBatch.joins`), as a TAP does. */
  get gather(): boolean {
    return this.vnetHeader !== null;
  }

  constructor(
    readonly name: string,
    mac: string,
    readonly mtu: number,
    public frames: Uint8Array[] = [],
    public perRecv = 32,
  ) {
    this.mac = parseMac(mac)!;
  }

  recv(batch: FrameBatch): number {
    if (!this.armed || this.frames.length === 0) return (batch.count = 0);
    const n = Math.min(this.perRecv, batch.capacity);
    for (let i = 0; i < n; i++) {
      const f = this.frames[this.next];
      this.next = this.next + 1 === this.frames.length ? 0 : this.next + 1;
      batch.bufs[i].set(f, HEADROOM);
      batch.offs[i] = HEADROOM;
      batch.lens[i] = f.length;
      if (this.vnetHeader !== null) batch.vnet?.set(this.vnetHeader, i * this.vnetHeader.length);
      if (this.plantAllocation) this.planted = { frame: i, prev: this.planted };
    }
    this.stats.rxFrames += n;
    return (batch.count = n);
  }

  send(batch: FrameBatch, count: number): number {
    // Slots continuing a train are no frames of their own.
    let frames = count;
    const j = batch.joins;
    if (j !== null) { for (let i = 0; i < count; i++) frames -= j[i]; }
    this.stats.txFrames += frames;
    return count;
  }

  sendFrame(): boolean {
    this.stats.txFrames++;
    return true;
  }

  isUp(): boolean {
    return true;
  }

  close(): void {}
}
