// A memory link that carries virtio-net headers, for offload tests without a kernel.
import { type FrameBatch, VNET_HDR_LEN } from "../../lib/link/link.ts";
import { WrappedLink } from "./wrapped_link.ts";

/** A memory link that exchanges virtio-net headers like an offloading TAP would. */
export class VnetLink extends WrappedLink {
  readonly vnet = true;
  override readonly kind = "vnet-memory";
  /** Headers of frames the far end injects, in order. */
  readonly inbound: Uint8Array[] = [];
  /** Headers the switch sent with each frame. */
  readonly sent: Uint8Array[] = [];
  override recv(batch: FrameBatch): number {
    const n = this.inner.recv(batch);
    for (let i = 0; i < n; i++) {
      batch.vnet!.set(this.inbound.shift() ?? new Uint8Array(VNET_HDR_LEN), i * VNET_HDR_LEN);
    }
    return n;
  }
  override send(batch: FrameBatch, count: number): number {
    for (let i = 0; i < count; i++) {
      this.sent.push(batch.vnet!.slice(i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN));
    }
    return this.inner.send(batch, count);
  }
  override sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    this.sent.push(new Uint8Array(VNET_HDR_LEN));
    return this.inner.sendFrame(buf, off, len);
  }
}

/**
 * A VnetLink that gathers, as the runtime's underlay packet socket does: a train (a frame and
 * the slots continuing it, `FrameBatch.joins`) is one frame with the first slot's header. Every
 * frame sent is kept whole in `frames`; frames of one slot also go on to the far end (a train
 * may be larger than the memory link's MTU).
 */
export class GatherVnetLink extends VnetLink {
  readonly gather = true;
  readonly frames: { f: Uint8Array; h: Uint8Array }[] = [];
  override send(batch: FrameBatch, count: number): number {
    for (let i = 0; i < count; i++) {
      const j = batch.joins?.[i] ?? 0, parts: Uint8Array[] = [];
      for (let s = i; s <= i + j; s++) {
        parts.push(batch.bufs[s].slice(batch.offs[s], batch.offs[s] + batch.lens[s]));
      }
      const f = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((n, p) => (f.set(p, n), n + p.length), 0);
      this.frames.push({ f, h: batch.vnet!.slice(i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN) });
      if (j === 0) this.inner.sendFrame(f, 0, f.length);
      i += j;
    }
    return count;
  }
}
