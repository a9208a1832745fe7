// A pinned vector of struct mmsghdr + struct iovec for sendmmsg and recvmmsg. The msghdr→iovec
// pointers are written once; per frame only base and length change, stored as u32 pairs so
// nothing is allocated. A message may take further iovecs (`extra`): a train of a gathering
// link (`FrameBatch.joins`) leaves as one message written from the buffers of its slots.
import { IOVEC, MMSGHDR, MSGHDR } from "../../ffi/layout.ts";
import { addressOf, putAddress } from "../../ffi/libc.ts";
import type { FrameBatch } from "./link.ts";

/**
 * `n` mmsghdr entries with their iovecs in one pinned buffer. With `iovs` = 2 each message is a
 * virtio-net header (iovec 0, see `setHeader`) followed by the frame (iovec 1); `extra` iovecs
 * per message are room for the slots continuing a frame (`append`, `load`).
 */
export class MmsgVec {
  readonly mem: Uint8Array<ArrayBuffer>;
  readonly ptr: Deno.PointerValue;
  /** After `load`: slots and frame bytes of each message. */
  readonly slots: Int32Array;
  readonly bytes: Float64Array;
  private readonly w: Uint32Array;
  private readonly iovOff: number;
  private readonly stride: number;

  constructor(readonly n: number, readonly iovs: 1 | 2 = 1, readonly extra = 0) {
    this.stride = iovs + extra;
    this.iovOff = n * MMSGHDR.size;
    this.mem = new Uint8Array(this.iovOff + n * this.stride * IOVEC.size);
    this.w = new Uint32Array(this.mem.buffer);
    this.ptr = Deno.UnsafePointer.of(this.mem);
    this.slots = new Int32Array(n);
    this.bytes = new Float64Array(n);
    const base = addressOf(this.mem);
    for (let i = 0; i < n; i++) {
      const m = i * MMSGHDR.size + MMSGHDR.hdr;
      putAddress(this.w, (m + MSGHDR.iov) >> 2, base + this.iovOff + i * this.stride * IOVEC.size);
      this.w[(m + MSGHDR.iovlen) >> 2] = iovs;
    }
  }

  private iov(i: number, k: number, addr: number, len: number): void {
    const v = (this.iovOff + (i * this.stride + k) * IOVEC.size) >> 2;
    putAddress(this.w, v + (IOVEC.base >> 2), addr);
    this.w[v + (IOVEC.len >> 2)] = len;
    this.w[v + (IOVEC.len >> 2) + 1] = 0;
  }

  /** Points message `i` at `len` bytes starting at `buf[off]` (its frame iovec, the only one). */
  set(i: number, buf: Uint8Array, off: number, len: number): void {
    this.iov(i, this.iovs - 1, addressOf(buf) + off, len);
    const m = i * MMSGHDR.size;
    this.w[(m + MMSGHDR.hdr + MSGHDR.iovlen) >> 2] = this.iovs;
    this.w[(m + MSGHDR.flags) >> 2] = 0;
    this.w[(m + MMSGHDR.len) >> 2] = 0;
  }

  /** Continues message `i` (after `set`) with `len` bytes at `buf[off]`; false when full. */
  append(i: number, buf: Uint8Array, off: number, len: number): boolean {
    const at = (i * MMSGHDR.size + MMSGHDR.hdr + MSGHDR.iovlen) >> 2, k = this.w[at];
    if (k >= this.stride) return false;
    this.iov(i, k, addressOf(buf) + off, len);
    this.w[at] = k + 1;
    return true;
  }

  /** Points the header iovec of message `i` (iovs = 2) at `len` bytes at `buf[off]`. */
  setHeader(i: number, buf: Uint8Array, off: number, len: number): void {
    this.iov(i, 0, addressOf(buf) + off, len);
  }

  /**
   * Points messages at the frames of `batch` from slot `from` up to `count`, as many as fit;
   * a frame and the slots continuing it (`joins`, null: none) are one message. `hdrs`: the
   * header iovec of frame k is `hdrLen` bytes at `hdrs[k * hdrLen]` (hdrLen 0: always
   * `hdrs[0..]`, a shared zero header); null without header iovecs. Returns the messages;
   * `slots` and `bytes` say what each one holds.
   */
  load(
    batch: FrameBatch,
    from: number,
    count: number,
    joins: Uint8Array | null,
    hdrs: Uint8Array | null,
    hdrLen: number,
    size: number,
  ): number {
    let m = 0;
    for (let i = from; i < count && m < this.n; m++) {
      // a train is never cut: gathering links are built with `extra` >= MAX_JOINS
      const j = joins === null ? 0 : Math.min(joins[i], count - 1 - i);
      this.set(m, batch.bufs[i], batch.offs[i], batch.lens[i]);
      if (hdrs !== null) this.setHeader(m, hdrs, i * hdrLen, size);
      let bytes = batch.lens[i];
      for (let s = 1; s <= j; s++) {
        this.append(m, batch.bufs[i + s], batch.offs[i + s], batch.lens[i + s]);
        bytes += batch.lens[i + s];
      }
      this.slots[m] = 1 + j;
      this.bytes[m] = bytes;
      i += 1 + j;
    }
    return m;
  }

  /** Bytes the kernel moved for message `i` (msg_len, header included). */
  len(i: number): number {
    return this.w[(i * MMSGHDR.size + MMSGHDR.len) >> 2];
  }

  /** msg_flags of message `i` after recvmmsg (MSG_TRUNC …). */
  flags(i: number): number {
    return this.w[(i * MMSGHDR.size + MSGHDR.flags) >> 2];
  }
}
