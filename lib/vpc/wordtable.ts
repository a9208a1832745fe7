// Open-addressing hash table from a fixed number of u32 key words to an i32 value, stored in
// typed arrays (no objects or strings per entry), linear probing with backward-shift deletion
// so no tombstones accumulate. Grows by doubling at 50 % load; sized for millions of entries.

import { hashWords } from "../packet/flow.ts";

const EMPTY = -1;

/** A numeric-key hash table: `keyWords` u32 words → i32 value (values ≥ 0; -1 means absent). */
export class WordTable {
  #keys: Uint32Array;
  #vals: Int32Array;
  #mask: number;
  #size = 0;

  constructor(readonly keyWords: number, initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.#keys = new Uint32Array(cap * keyWords);
    this.#vals = new Int32Array(cap).fill(EMPTY);
    this.#mask = cap - 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Number of slots (twice the entries it holds before growing). */
  get capacity(): number {
    return this.#mask + 1;
  }

  #find(k: Uint32Array, at: number): number {
    const n = this.keyWords, keys = this.#keys, vals = this.#vals, mask = this.#mask;
    let i = hashWords(k, at, n) & mask;
    for (;;) {
      if (vals[i] === EMPTY) return -1 - i;
      const base = i * n;
      let eq = true;
      for (let j = 0; j < n; j++) {
        if (keys[base + j] !== k[at + j]) {
          eq = false;
          break;
        }
      }
      if (eq) return i;
      i = (i + 1) & mask;
    }
  }

  /** The value for the key at `k[at..at+keyWords]`, or -1. */
  get(k: Uint32Array, at = 0): number {
    const i = this.#find(k, at);
    return i < 0 ? -1 : this.#vals[i];
  }

  /** Inserts or replaces; returns the previous value or -1. `value` must be ≥ 0. */
  set(k: Uint32Array, at: number, value: number): number {
    let i = this.#find(k, at);
    if (i >= 0) {
      const old = this.#vals[i];
      this.#vals[i] = value;
      return old;
    }
    if ((this.#size + 1) * 2 > this.#mask + 1) {
      this.#grow();
      i = this.#find(k, at);
    }
    const slot = -1 - i, n = this.keyWords;
    for (let j = 0; j < n; j++) this.#keys[slot * n + j] = k[at + j];
    this.#vals[slot] = value;
    this.#size++;
    return -1;
  }

  /** Removes the key; returns its value or -1 when absent. */
  delete(k: Uint32Array, at = 0): number {
    const found = this.#find(k, at);
    if (found < 0) return -1;
    const n = this.keyWords, keys = this.#keys, vals = this.#vals, mask = this.#mask;
    const old = vals[found];
    // Backward shift: pull later members of the probe run into the hole when their home slot
    // does not lie cyclically within (hole, current].
    let hole = found, i = found;
    for (;;) {
      i = (i + 1) & mask;
      if (vals[i] === EMPTY) break;
      const home = hashWords(keys, i * n, n) & mask;
      const between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (between) continue;
      keys.copyWithin(hole * n, i * n, i * n + n);
      vals[hole] = vals[i];
      hole = i;
    }
    vals[hole] = EMPTY;
    this.#size--;
    return old;
  }

  /** Removes everything (keeps capacity). */
  clear(): void {
    this.#vals.fill(EMPTY);
    this.#size = 0;
  }

  /** Calls `fn(keys, at, value)` for each entry; the key words live at `keys[at..]`. */
  forEach(fn: (keys: Uint32Array, at: number, value: number) => void): void {
    const n = this.keyWords;
    for (let i = 0; i <= this.#mask; i++) {
      if (this.#vals[i] !== EMPTY) fn(this.#keys, i * n, this.#vals[i]);
    }
  }

  #grow(): void {
    const oldKeys = this.#keys, oldVals = this.#vals, n = this.keyWords;
    const cap = (this.#mask + 1) * 2;
    this.#keys = new Uint32Array(cap * n);
    this.#vals = new Int32Array(cap).fill(EMPTY);
    this.#mask = cap - 1;
    this.#size = 0;
    for (let i = 0; i < oldVals.length; i++) {
      if (oldVals[i] !== EMPTY) this.set(oldKeys, i * n, oldVals[i]);
    }
  }
}

/** Hands out dense value slots 0..n-1 and takes them back, so side arrays stay compact. */
export class SlotAllocator {
  #free: number[] = [];
  #next = 0;

  /** A free slot number. */
  alloc(): number {
    return this.#free.length > 0 ? this.#free.pop()! : this.#next++;
  }

  /** Returns a slot for reuse. */
  release(slot: number): void {
    this.#free.push(slot);
  }

  /** One past the highest slot ever handed out (the side arrays' needed length). */
  get highWater(): number {
    return this.#next;
  }

  /** Forgets every slot. */
  reset(): void {
    this.#free.length = 0;
    this.#next = 0;
  }
}
