// Exact-match tables keyed by a few bytes (an IPv6 address, a MAC) plus a numeric tag (a VNI),
// looked up straight from a frame buffer: a 32-bit hash picks a bucket and the bytes are
// compared in place, so a lookup allocates nothing.

interface Entry<T> {
  key: Uint8Array;
  tag: number;
  value: T;
}

function hashBytes(b: Uint8Array, off: number, len: number, tag: number): number {
  let h = 2166136261 ^ tag;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ b[off + i], 16777619);
  // 30 bits: a small integer V8 keeps unboxed, so a Map lookup allocates nothing.
  return (h ^ (h >>> 30)) & 0x3fffffff;
}

function same(a: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

/** A map from (bytes, tag) to T. */
export class KeyTable<T> {
  private readonly buckets = new Map<number, Entry<T>[]>();
  private n = 0;

  constructor(readonly keyLen: number) {}

  /** Number of entries. */
  get size(): number {
    return this.n;
  }

  /** The value for `keyLen` bytes at `off` of `b` under `tag`, or undefined. */
  get(b: Uint8Array, off: number, tag = 0): T | undefined {
    const bucket = this.buckets.get(hashBytes(b, off, this.keyLen, tag));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (e.tag === tag && same(e.key, b, off, this.keyLen)) return e.value;
    }
    return undefined;
  }

  /** Inserts or replaces; returns the value it replaced. */
  set(key: Uint8Array, tag: number, value: T): T | undefined {
    const h = hashBytes(key, 0, this.keyLen, tag);
    let bucket = this.buckets.get(h);
    if (bucket === undefined) this.buckets.set(h, bucket = []);
    for (const e of bucket) {
      if (e.tag === tag && same(e.key, key, 0, this.keyLen)) {
        const old = e.value;
        e.value = value;
        return old;
      }
    }
    bucket.push({ key: key.slice(0, this.keyLen), tag, value });
    this.n++;
    return undefined;
  }

  /** Removes an entry; true when it existed. */
  delete(key: Uint8Array, tag = 0): boolean {
    const h = hashBytes(key, 0, this.keyLen, tag);
    const bucket = this.buckets.get(h);
    if (bucket === undefined) return false;
    const i = bucket.findIndex((e) => e.tag === tag && same(e.key, key, 0, this.keyLen));
    if (i < 0) return false;
    bucket.splice(i, 1);
    if (bucket.length === 0) this.buckets.delete(h);
    this.n--;
    return true;
  }

  /** Every value (control path only). */
  *values(): IterableIterator<T> {
    for (const b of this.buckets.values()) for (const e of b) yield e.value;
  }
}
