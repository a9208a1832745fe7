// Readiness for the datapath loop: poll(2) over link fds through FFI. Blocking with a timeout
// is meant for a datapath Worker; on the main thread use timeout 0.
import { C, POLLFD } from "../../ffi/layout.ts";
import { errno, libc } from "../../ffi/libc.ts";

/** A reusable pollfd vector over a fixed set of fds; `wait` allocates nothing. */
export class Poller {
  private readonly mem: Uint8Array<ArrayBuffer>;
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly p: Deno.PointerValue;
  private readonly n: bigint;

  constructor(readonly fds: readonly number[], events = C.POLLIN) {
    this.mem = new Uint8Array(Math.max(1, fds.length) * POLLFD.size);
    this.i32 = new Int32Array(this.mem.buffer);
    this.u16 = new Uint16Array(this.mem.buffer);
    for (let i = 0; i < fds.length; i++) {
      this.i32[(i * POLLFD.size + POLLFD.fd) >> 2] = fds[i];
      this.u16[(i * POLLFD.size + POLLFD.events) >> 1] = events;
    }
    this.p = Deno.UnsafePointer.of(this.mem);
    this.n = BigInt(fds.length);
  }

  /** Waits up to `timeoutMs` (-1: forever, 0: just look); returns how many fds are ready. */
  wait(timeoutMs: number): number {
    for (let i = 0; i < this.fds.length; i++) this.u16[(i * POLLFD.size + POLLFD.revents) >> 1] = 0;
    const r = libc.poll(this.p, this.n, timeoutMs);
    if (r < 0) return errno() === C.EINTR ? 0 : -errno();
    return r;
  }

  /** The revents of fd `i` after the last `wait`. */
  revents(i: number): number {
    return this.u16[(i * POLLFD.size + POLLFD.revents) >> 1];
  }

  /** True when fd `i` was readable (or in error, so the reader sees the error) at the last wait. */
  ready(i: number): boolean {
    return this.revents(i) !== 0;
  }
}

let cached: { fds: readonly number[]; poller: Poller } | null = null;

/**
 * Waits until one of `fds` is readable or `timeoutMs` passes; marks `ready[i]` 1/0 when given.
 * Returns the count of ready fds (negative errno on failure). Reuses its pollfd vector while
 * the same `fds` array is passed.
 */
export function pollLinks(fds: readonly number[], timeoutMs: number, ready?: Uint8Array): number {
  if (!cached || cached.fds !== fds) cached = { fds, poller: new Poller(fds) };
  const n = cached.poller.wait(timeoutMs);
  if (ready) { for (let i = 0; i < fds.length; i++) ready[i] = cached.poller.ready(i) ? 1 : 0; }
  return n;
}
