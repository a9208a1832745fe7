// Readiness for the datapath loop: poll(2) over link fds through FFI. Blocking with a timeout
// is meant for a datapath Worker; on the main thread use timeout 0.
import { C, POLLFD } from "../../ffi/layout.ts";
import { errno, libc } from "../../ffi/libc.ts";
import { optionalEnv } from "../contract/env.ts";
import { SpinPolicy, spinTuning } from "./spin.ts";

/**
 * An operator's tuning override from the environment (for A/B measurements without code
 * changes), or undefined when unset or when env access is not granted.
 */
export const tuningEnv = optionalEnv;

const peeks = new Map<number, () => boolean>();
let peekVersion = 0;

/**
 * Registers (or, with null, removes) a syscall-free readiness check for `fd`, such as a mapped
 * ring's next status word. Spinning pollers call it instead of poll(2): poll on a packet socket
 * takes the queue lock the kernel's producer needs, so a poll(0) spin slows the sender.
 */
export function setPeek(fd: number, peek: (() => boolean) | null): void {
  if (peek) peeks.set(fd, peek);
  else peeks.delete(fd);
  peekVersion++;
}

/** A reusable pollfd vector over a fixed set of fds; `wait` allocates nothing. */
export class Poller {
  private readonly mem: Uint8Array<ArrayBuffer>;
  private readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  private readonly p: Deno.PointerValue;
  private readonly n: bigint;
  /** When the next wait spins before sleeping, and for how long. */
  private readonly policy = new SpinPolicy();
  private readonly peek: ((() => boolean) | null)[] = [];
  private peekSeen = -1;
  /** The fds without a peek (indices `subAt` here), polled alone on every spin turn. */
  private sub: Poller | null = null;
  private subAt: number[] = [];

  constructor(readonly fds: readonly number[], private readonly events = C.POLLIN) {
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
    // A look between batches that finds nothing does not end the traffic (the loop reads on).
    if (timeoutMs === 0) {
      const r = libc.poll(this.p, this.n, 0);
      return r > 0 ? this.done(r) : this.result(r);
    }
    this.policy.idle(performance.now());
    // A spin never outlasts the caller's timeout (its timer tick or a memory link beside us).
    const spin = timeoutMs > 0
      ? Math.min(this.policy.windowUs(), timeoutMs * 1000)
      : this.policy.windowUs();
    if (spin > 0) {
      const r = this.spin(spin);
      if (r !== 0) return this.done(r);
    }
    return this.done(libc.poll(this.p, this.n, timeoutMs));
  }

  /**
   * Looks for readiness without sleeping for up to `us` µs; the ready count (0: none). Every
   * turn checks the peeks and polls the fds without one (alone: poll on a ring socket takes the
   * queue lock its producer needs). Polling them only every 16th turn cost a TAP frame up to 16
   * sched_yields of latency on each hop while a ring link sat idle beside it.
   */
  private spin(us: number): number {
    if (this.peekSeen !== peekVersion) this.loadPeeks();
    const end = performance.now() + us / 1000, sub = this.sub, at = this.subAt;
    do {
      let hit = this.markPeeks();
      if (sub !== null && sub.look() > 0) {
        for (let k = 0; k < at.length; k++) {
          const r = sub.revents(k);
          if (r !== 0) this.u16[(at[k] * POLLFD.size + POLLFD.revents) >> 1] = r;
        }
        hit++;
      }
      if (hit > 0) return this.readyCount();
      if (spinTuning.yield) libc.sched_yield();
    } while (performance.now() < end);
    return 0;
  }

  /** poll(2) without waiting; the ready count (revents rewritten by the kernel). */
  look(): number {
    return libc.poll(this.p, this.n, 0);
  }

  /** Marks fds whose peek sees a frame as readable; returns how many. */
  private markPeeks(): number {
    let hit = 0;
    for (let i = 0; i < this.fds.length; i++) {
      const f = this.peek[i];
      if (f !== null && f()) {
        this.u16[(i * POLLFD.size + POLLFD.revents) >> 1] |= C.POLLIN;
        hit++;
      }
    }
    return hit;
  }

  /** How many fds have non-zero revents. */
  private readyCount(): number {
    let r = 0;
    for (let i = 0; i < this.fds.length; i++) if (this.revents(i) !== 0) r++;
    return r;
  }

  private loadPeeks(): void {
    this.peekSeen = peekVersion;
    this.subAt = [];
    for (let i = 0; i < this.fds.length; i++) {
      this.peek[i] = peeks.get(this.fds[i]) ?? null;
      if (this.peek[i] === null) this.subAt.push(i);
    }
    const subFds = this.subAt.map((i) => this.fds[i]);
    this.sub = subFds.length > 0 ? new Poller(subFds, this.events) : null;
  }

  private done(r: number): number {
    if (r > 0) this.policy.found(performance.now());
    else this.policy.timedOut();
    return this.result(r);
  }

  private result(r: number): number {
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
