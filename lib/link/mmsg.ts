// A pinned vector of struct mmsghdr + struct iovec (one iovec per message) for sendmmsg and
// recvmmsg. The msghdr→iovec pointers are written once; per frame only base and length change,
// stored as u32 pairs so nothing is allocated.
import { IOVEC, MMSGHDR, MSGHDR } from "../../ffi/layout.ts";
import { addressOf, putAddress } from "../../ffi/libc.ts";

/**
 * `n` mmsghdr entries with their iovecs in one pinned buffer. With `iovs` = 2 each message is a
 * virtio-net header (iovec 0, see `setHeader`) followed by the frame (iovec 1).
 */
export class MmsgVec {
  readonly mem: Uint8Array<ArrayBuffer>;
  readonly ptr: Deno.PointerValue;
  private readonly w: Uint32Array;
  private readonly iovOff: number;

  constructor(readonly n: number, readonly iovs: 1 | 2 = 1) {
    this.iovOff = n * MMSGHDR.size;
    this.mem = new Uint8Array(this.iovOff + n * iovs * IOVEC.size);
    this.w = new Uint32Array(this.mem.buffer);
    this.ptr = Deno.UnsafePointer.of(this.mem);
    const base = addressOf(this.mem);
    for (let i = 0; i < n; i++) {
      const m = i * MMSGHDR.size + MMSGHDR.hdr;
      putAddress(this.w, (m + MSGHDR.iov) >> 2, base + this.iovOff + i * iovs * IOVEC.size);
      this.w[(m + MSGHDR.iovlen) >> 2] = iovs;
    }
  }

  private iov(i: number, k: number, addr: number, len: number): void {
    const v = (this.iovOff + (i * this.iovs + k) * IOVEC.size) >> 2;
    putAddress(this.w, v + (IOVEC.base >> 2), addr);
    this.w[v + (IOVEC.len >> 2)] = len;
    this.w[v + (IOVEC.len >> 2) + 1] = 0;
  }

  /** Points message `i` at `len` bytes starting at `buf[off]` (its last iovec). */
  set(i: number, buf: Uint8Array, off: number, len: number): void {
    this.iov(i, this.iovs - 1, addressOf(buf) + off, len);
    this.w[(i * MMSGHDR.size + MSGHDR.flags) >> 2] = 0;
    this.w[(i * MMSGHDR.size + MMSGHDR.len) >> 2] = 0;
  }

  /** Points the header iovec of message `i` (iovs = 2) at `len` bytes at `buf[off]`. */
  setHeader(i: number, buf: Uint8Array, off: number, len: number): void {
    this.iov(i, 0, addressOf(buf) + off, len);
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
