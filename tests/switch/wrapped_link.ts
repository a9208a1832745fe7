// A Link that hands every call to an inner memory link: the base of test links that change one
// behaviour (virtio-net headers, a pollable fd).
import type { FrameBatch, Link } from "../../lib/link/link.ts";
import type { MemoryLink } from "../../lib/link/memory.ts";

/** Delegates everything to `inner`; subclasses override what they change. */
export class WrappedLink implements Link {
  readonly kind: string = "wrapped-memory";
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
  get fd() {
    return this.inner.fd;
  }
  get stats() {
    return this.inner.stats;
  }
  recv(batch: FrameBatch, max?: number): number {
    return this.inner.recv(batch, max);
  }
  send(batch: FrameBatch, count: number): number {
    return this.inner.send(batch, count);
  }
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    return this.inner.sendFrame(buf, off, len);
  }
  isUp() {
    return this.inner.isUp();
  }
  close() {
    this.inner.close();
  }
}
