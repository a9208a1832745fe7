// A bounded hash table keyed by FlowId words (ten u32). Entries live in an arena at stable
// indices (key words, value, last-hit time), so values can hold their own index and no key
// object is allocated per flow; an open-addressing slot array (linear probing, backward-shift
// deletion, no tombstones) maps hashes to arena indices.

import { FLOW_WORDS, type FlowId, smallHash } from "../packet/flow.ts";

/** The table hash of a flow key (30 bits: a small integer V8 never boxes). */
export function flowHash(w: Uint32Array): number {
  return smallHash(w, 0, FLOW_WORDS);
}

/** A bounded flow table: at most `limit` entries, each a FlowId key, a value and a last-hit time. */
export class FlowTable<V> {
  /** Number of live entries. */
  size = 0;
  readonly limit: number;
  private readonly mask: number;
  /** Slot → arena index + 1 (0 = empty). */
  private readonly slots: Int32Array;
  private readonly keys: Uint32Array;
  private readonly hashes: Uint32Array;
  private readonly vals: (V | null)[];
  /** Last time (clock ms) each entry was used; indexed by entry index. */
  readonly lastHit: Float64Array;
  private readonly freeList: Int32Array;
  private freeTop: number;

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`flow table limit must be >= 1, got ${limit}`);
    this.limit = limit;
    let cap = 8;
    while (cap < limit * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap);
    this.keys = new Uint32Array(limit * FLOW_WORDS);
    this.hashes = new Uint32Array(limit);
    this.vals = new Array(limit).fill(null);
    this.lastHit = new Float64Array(limit);
    this.freeList = new Int32Array(limit);
    for (let i = 0; i < limit; i++) this.freeList[i] = limit - 1 - i;
    this.freeTop = limit;
  }

  /** True when another insert would exceed the limit. */
  get full(): boolean {
    return this.size >= this.limit;
  }

  /** The entry index holding `key`, or -1 (`h`: its flowHash, when the caller has it). */
  find(key: FlowId, h: number = flowHash(key.w)): number {
    const w = key.w;
    const slots = this.slots, keys = this.keys, hashes = this.hashes, mask = this.mask;
    let i = h & mask;
    let e = slots[i];
    while (e !== 0) {
      const x = e - 1;
      if (hashes[x] === h) {
        const b = x * FLOW_WORDS;
        if (
          keys[b] === w[0] && keys[b + 1] === w[1] && keys[b + 2] === w[2] &&
          keys[b + 3] === w[3] && keys[b + 4] === w[4] && keys[b + 5] === w[5] &&
          keys[b + 6] === w[6] && keys[b + 7] === w[7] && keys[b + 8] === w[8] &&
          keys[b + 9] === w[9]
        ) return x;
      }
      i = (i + 1) & mask;
      e = slots[i];
    }
    return -1;
  }

  /** The value stored for `key`, or null. */
  get(key: FlowId): V | null {
    const x = this.find(key);
    return x < 0 ? null : this.vals[x];
  }

  /** The value at an entry index (null when free). */
  valueAt(idx: number): V | null {
    return this.vals[idx];
  }

  /** Copies the key of entry `idx` into `out`. */
  keyAt(idx: number, out: FlowId): FlowId {
    out.w.set(this.keys.subarray(idx * FLOW_WORDS, idx * FLOW_WORDS + FLOW_WORDS));
    return out;
  }

  /**
   * Inserts or replaces `key` → `val`; returns the entry index, or -1 when the key is new and the
   * table is at its limit (the caller evicts and retries, or drops).
   */
  set(key: FlowId, val: V, now: number): number {
    const w = key.w;
    const h = flowHash(w);
    const found = this.find(key, h);
    if (found >= 0) {
      this.vals[found] = val;
      this.lastHit[found] = now;
      return found;
    }
    if (this.freeTop === 0) return -1;
    const x = this.freeList[--this.freeTop];
    this.keys.set(w, x * FLOW_WORDS);
    this.hashes[x] = h;
    this.vals[x] = val;
    this.lastHit[x] = now;
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = x + 1;
    this.size++;
    return x;
  }

  /** Removes `key`; returns its value or null when absent. */
  delete(key: FlowId): V | null {
    const x = this.find(key);
    if (x < 0) return null;
    const v = this.vals[x];
    this.deleteAt(x);
    return v;
  }

  /** Removes entry `idx` (its slot is found by hash; later slots of the chain shift back). */
  deleteAt(idx: number): void {
    const mask = this.mask, slots = this.slots, hashes = this.hashes;
    let hole = hashes[idx] & mask;
    while (slots[hole] !== idx + 1) {
      if (slots[hole] === 0) return; // not in the table
      hole = (hole + 1) & mask;
    }
    let i = (hole + 1) & mask;
    while (slots[i] !== 0) {
      const home = hashes[slots[i] - 1] & mask;
      // Move slot i into the hole unless its home lies cyclically in (hole, i].
      const inRange = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!inRange) {
        slots[hole] = slots[i];
        hole = i;
      }
      i = (i + 1) & mask;
    }
    slots[hole] = 0;
    this.vals[idx] = null;
    this.freeList[this.freeTop++] = idx;
    this.size--;
  }

  /** Removes every entry. */
  clear(): void {
    this.slots.fill(0);
    this.vals.fill(null);
    for (let i = 0; i < this.limit; i++) this.freeList[i] = this.limit - 1 - i;
    this.freeTop = this.limit;
    this.size = 0;
  }

  /** Live entry indices (a snapshot: safe to delete while iterating the result). */
  indices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.limit; i++) if (this.vals[i] !== null) out.push(i);
    return out;
  }

  /** Snapshot of all values (control plane: dumps, expiry, eviction). */
  values(): V[] {
    const out: V[] = [];
    for (let i = 0; i < this.limit; i++) if (this.vals[i] !== null) out.push(this.vals[i]!);
    return out;
  }
}
