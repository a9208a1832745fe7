// A tiny seedable PRNG for the fuzz loop. Math.random cannot be replayed, and fast-check's
// generators allocate per value; the hot loop needs one reusable, re-seedable object so
// frame i of run s can be regenerated on its own from (s, i).

/** mulberry32: 32-bit state, full period, good enough to pick mutations. */
export class Rng {
  private s = 0;

  constructor(seed = 1) {
    this.reseed(seed);
  }

  /** Restarts the sequence; `frameSeed(run, i)` gives each frame its own stream. */
  reseed(seed: number): void {
    this.s = seed >>> 0;
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in [0, n); n must be > 0. */
  int(n: number): number {
    return this.next() % n;
  }

  /** A uniform byte. */
  byte(): number {
    return this.next() & 0xff;
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.next() % n === 0;
  }
}

/** The seed of frame `i` of run `run`: a hash, so neighbouring frames are unrelated. */
export function frameSeed(run: number, i: number): number {
  let h = Math.imul((run >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i >>> 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
