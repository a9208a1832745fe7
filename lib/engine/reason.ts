// Why a packet was dropped or failed, as a registered value: counters are indexed by the
// reason's id, so counting a drop is `counts[id]++`, and a name is only rendered where counters
// are shown (admin API, metrics, traces). Reasons are registered once, at module load or when a
// rule is built, never per packet.

/** A registered drop or error reason; compare by identity, count by `id`. */
export class Reason {
  /** This reason qualified by a layer name ("layer: reason"), by layer, made on first use. */
  readonly #inLayer = new Map<string, Reason>();

  /** Use `reason(name)`: one object per name keeps counters and comparisons by identity. */
  constructor(readonly id: number, readonly name: string) {}

  /** The reason `"<layer>: <name>"` (the switch counts pipeline drops per layer and reason). */
  in(layer: string): Reason {
    if (layer === "") return this;
    let r = this.#inLayer.get(layer);
    if (r === undefined) this.#inLayer.set(layer, r = reason(`${layer}: ${this.name}`));
    return r;
  }

  /** The name, so a reason reads as text in messages and JSON. */
  toString(): string {
    return this.name;
  }
  /** The name. */
  toJSON(): string {
    return this.name;
  }
}

const all: Reason[] = [];
const byName = new Map<string, Reason>();

/** The reason called `name`, registered on first use. Call it when building, not per packet. */
export function reason(name: string): Reason {
  let r = byName.get(name);
  if (r === undefined) {
    r = new Reason(all.length, name);
    all.push(r);
    byName.set(name, r);
  }
  return r;
}

/** The registered reason called `name`, or undefined. */
export function findReason(name: string): Reason | undefined {
  return byName.get(name);
}

/**
 * Counts per reason, indexed by reason id. Reads render names and behave like a
 * `Map<string, number>` of the non-zero counts, in registration order.
 */
export class ReasonCounts implements Iterable<[string, number]> {
  #n = new Float64Array(Math.max(64, all.length));

  /** Counts one occurrence of `r`. */
  add(r: Reason): void {
    if (r.id >= this.#n.length) this.#grow();
    this.#n[r.id]++;
  }

  /** The count of `r`. */
  of(r: Reason): number {
    return r.id < this.#n.length ? this.#n[r.id] : 0;
  }

  /** The count of the reason called `name`, undefined when none was counted. */
  get(name: string): number | undefined {
    const r = byName.get(name);
    const n = r === undefined ? 0 : this.of(r);
    return n === 0 ? undefined : n;
  }

  /** How many reasons have a non-zero count. */
  get size(): number {
    let k = 0;
    for (const n of this.#n) if (n !== 0) k++;
    return k;
  }

  /** Sets every count back to zero. */
  clear(): void {
    this.#n.fill(0);
  }

  /** [name, count] of every non-zero count. */
  *[Symbol.iterator](): IterableIterator<[string, number]> {
    const n = this.#n;
    for (let i = 0; i < n.length; i++) if (n[i] !== 0) yield [all[i].name, n[i]];
  }
  /** Names with a non-zero count. */
  *keys(): IterableIterator<string> {
    for (const [k] of this) yield k;
  }
  /** Non-zero counts. */
  *values(): IterableIterator<number> {
    for (const [, v] of this) yield v;
  }
  /** `{ name: count }` of the non-zero counts. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this);
  }

  #grow(): void {
    const n = new Float64Array(Math.max(all.length, this.#n.length * 2));
    n.set(this.#n);
    this.#n = n;
  }
}
