// How long the datapath loop keeps looking for frames (busy polling) before it sleeps in
// poll(2). A sleeping thread costs every frame that ends the sleep a wake-up, tens of µs on a
// virtual CPU, while the kernel's own switching answers in softirq with none. Spinning a fixed
// short time only helps frames that follow each other closely; traffic that is sparse but steady
// (a ping every ms, request/response over two sleds) always found the loop asleep. The policy
// below learns the idle gaps that end in a frame and spins just past the recent longest one, up to
// an operator's cap; it costs nothing while no frames come. FFI-free so a Worker can set it up
// before lib/link/poll.ts loads, and so tests can drive it with a made-up clock.

import { optionalEnv } from "../contract/env.ts";

/** The fixed short spin after activity, µs, when no longer one is justified (XDENO_POLL_SPIN_US). */
export const SPIN_MIN_US_DEFAULT = 50;

/**
 * Process-wide spin tuning. `minUs`: after a wait that found work, the next wait first looks
 * for up to this long before sleeping (0: never spin). `maxUs`: the cap of the adaptive spin
 * (≤ `minUs`: adaptive spin off). `yield`: sched_yield between looks, so a spinner hands a
 * shared core to any thread that wants it (without it the other sled starved).
 */
export const spinTuning = {
  minUs: envNumber("XDENO_POLL_SPIN_US") ?? SPIN_MIN_US_DEFAULT,
  /** Off until the runtime hands over the config's `datapath.busyPollUs`. */
  maxUs: 0,
  yield: optionalEnv("XDENO_POLL_YIELD") !== "0",
};

/**
 * Sets the adaptive spin cap from the operator's config; the environment variable
 * XDENO_BUSY_POLL_US, when set, wins (for A/B measurements without editing the config).
 */
export function setBusyPollUs(configured: number): void {
  spinTuning.maxUs = envNumber("XDENO_BUSY_POLL_US") ?? configured;
}

function envNumber(name: string): number | undefined {
  const v = optionalEnv(name);
  if (v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** How many recent idle gaps the policy remembers. */
const GAPS = 8;
/** Spin this much longer than the gap it means to cover (jitter of a steady sender). */
const MARGIN = 1.25;
/** Sparse traffic: the loop idled at least this share of the time its remembered gaps span. */
const QUIET_SHARE = 0.75;

/**
 * The spin window of one poller. `idle(now)` when a wait begins, `found(now)` when a wait ends
 * with a ready fd, `timedOut()` when it ends with none; `windowUs()` says how long the next wait
 * may spin. Each frame that ends an idle stretch buys at most one window (≤ the cap) of spinning,
 * which bounds the cost of gaps the window misses. Times are ms (performance.now()), windows µs. Allocates
 * nothing after construction.
 */
export class SpinPolicy {
  /** Start of the current idle stretch (ms), or NaN while the loop is busy. */
  private idleSince = NaN;
  /** The last wait found work: traffic flows, so the next one may spin at all. */
  private active = false;
  /** The last `GAPS` idle gaps that ended in a frame (µs), and when each ended (ms). */
  private readonly gaps = new Float64Array(GAPS);
  private readonly ends = new Float64Array(GAPS);
  private next = 0;
  private count = 0;

  constructor(private readonly tuning: { minUs: number; maxUs: number } = spinTuning) {}

  /** A wait begins at `now`: an idle stretch starts unless one is already running. */
  idle(now: number): void {
    if (Number.isNaN(this.idleSince)) this.idleSince = now;
  }

  /** A wait at `now` found a ready fd: the idle stretch that ended is a gap worth covering. */
  found(now: number): void {
    if (!Number.isNaN(this.idleSince)) {
      this.gaps[this.next] = Math.round((now - this.idleSince) * 1000);
      this.ends[this.next] = now;
      this.next = (this.next + 1) % GAPS;
      if (this.count < GAPS) this.count++;
    }
    this.idleSince = NaN;
    this.active = true;
  }

  /** A wait timed out with nothing ready: the loop stays idle (the stretch goes on). */
  timedOut(): void {
    this.active = false;
  }

  /**
   * How long the next wait may spin, µs (0: sleep at once). Nothing unless the last wait found
   * work; the fixed `minUs` unless a recent gap, stretched by the margin, fits under `maxUs`,
   * then the longest such stretch. Gaps that no spin within the cap covers are ignored, so one
   * long pause does not stop covering the steady gaps around it. Only while the traffic is
   * sparse, though: the loop sat idle for at least `QUIET_SHARE` of the time its remembered
   * gaps span. A stream keeps the loop busy between short gaps and the odd longer one; its
   * frames batch up while the loop sleeps, and spinning through its pauses would only take a
   * shared core's time from the threads that feed it.
   */
  windowUs(): number {
    const { minUs, maxUs } = this.tuning;
    if (!this.active || minUs <= 0) return 0;
    if (maxUs <= minUs || this.count < GAPS) return minUs;
    let best = minUs, idle = 0;
    for (let i = 0; i < GAPS; i++) {
      // the oldest gap ended where the span begins
      if (i !== this.next) idle += this.gaps[i];
      const w = this.gaps[i] * MARGIN;
      if (w > best && w <= maxUs) best = w;
    }
    const newest = this.ends[(this.next + GAPS - 1) % GAPS], oldest = this.ends[this.next];
    return idle >= QUIET_SHARE * (newest - oldest) * 1000 ? best : minUs;
  }
}
