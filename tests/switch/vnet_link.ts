// A memory link that carries virtio-net headers, for offload tests without a kernel.
import { type FrameBatch, type Link, VNET_HDR_LEN } from "../../lib/link/link.ts";
import type { MemoryLink } from "../../lib/link/memory.ts";

/** A memory link that exchanges virtio-net headers like an offloading TAP would. */
export class VnetLink implements Link {
  readonly vnet = true;
  readonly kind = "vnet-memory";
  readonly fd = -1;
  /** Headers of frames the far end injects, in order. */
  readonly inbound: Uint8Array[] = [];
  /** Headers the switch sent with each frame. */
  readonly sent: Uint8Array[] = [];
  constructor(readonly inner: MemoryLink) {}
  get name() {
    return this.inner.name;
  }
  get mac() {
    return this.inner.mac;
  }
  get mtu() {
    return this.inner.mtu;
  }
  get stats() {
    return this.inner.stats;
  }
  recv(batch: FrameBatch): number {
    const n = this.inner.recv(batch);
    for (let i = 0; i < n; i++) {
      batch.vnet!.set(this.inbound.shift() ?? new Uint8Array(VNET_HDR_LEN), i * VNET_HDR_LEN);
    }
    return n;
  }
  send(batch: FrameBatch, count: number): number {
    for (let i = 0; i < count; i++) {
      this.sent.push(batch.vnet!.slice(i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN));
    }
    return this.inner.send(batch, count);
  }
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    this.sent.push(new Uint8Array(VNET_HDR_LEN));
    return this.inner.sendFrame(buf, off, len);
  }
  isUp() {
    return this.inner.isUp();
  }
  close() {
    this.inner.close();
  }
}
