// Mutations of valid frames into a reused work buffer: truncation, byte flips, length fields
// bent by ±1 / to 0 / to their maximum, inserted and deleted runs, duplicated regions (repeated
// options, longer chains). Every choice comes from the Rng, so a frame is a pure function of
// (seed frame, rng seed). The systematic sweeps enumerate the same classes exhaustively.

import type { Rng } from "./rng.ts";
import { type Field, lengthFields } from "./fields.ts";

/** The largest frame the mutator writes (jumbo plus growth room). */
export const MAX_FRAME = 16384;

/** A valid frame to start from, with its length fields found once. */
export interface Seed {
  name: string;
  bytes: Uint8Array;
  fields: Field[];
}

/** Prepares seeds: finds the length fields of each. */
export function makeSeeds(frames: [string, Uint8Array][]): Seed[] {
  return frames.map(([name, bytes]) => ({ name, bytes, fields: lengthFields(bytes) }));
}

const DELTAS = [1, -1, 2, -2, 4, -4, 8, -8, 0x7f, -0x7f];

/** Reads the masked value of field `f` in `b`. */
function readField(b: Uint8Array, f: Field): number {
  const raw = f.width === 1 ? b[f.off] : (b[f.off] << 8) | b[f.off + 1];
  return (raw & f.mask) >>> f.shift;
}

/** Writes `v` into the masked bits of field `f`, keeping the other bits. */
export function writeField(b: Uint8Array, f: Field, v: number): void {
  const max = f.mask >>> f.shift;
  const bits = (((v % (max + 1)) + max + 1) % (max + 1)) << f.shift;
  if (f.width === 1) b[f.off] = (b[f.off] & ~f.mask) | bits;
  else {
    const raw = (((b[f.off] << 8) | b[f.off + 1]) & ~f.mask) | bits;
    b[f.off] = raw >>> 8;
    b[f.off + 1] = raw;
  }
}

/** The values a length sweep tries for field `f` whose current value is `cur`. */
export function fieldValues(f: Field, cur: number): number[] {
  const max = f.mask >>> f.shift;
  return [cur + 1, cur - 1, 0, max, max - 1, (max + 1) >>> 1];
}

/** Applies one to three random mutations of `seed` into `out`; returns the new length. */
export function mutate(seed: Seed, rng: Rng, out: Uint8Array): number {
  let len = seed.bytes.length;
  out.set(seed.bytes);
  const n = 1 + (rng.oneIn(3) ? rng.int(3) : 0);
  for (let k = 0; k < n; k++) len = mutateOnce(seed, rng, out, len);
  return len;
}

function mutateOnce(seed: Seed, rng: Rng, b: Uint8Array, len: number): number {
  const op = rng.int(16);
  if (len === 0) return 0;
  if (op < 3) return rng.int(len + 1); // truncate
  if (op < 7) {
    // Flip a few bytes: a random value, a single bit, or an extreme.
    const flips = 1 + rng.int(4);
    for (let i = 0; i < flips; i++) {
      const at = rng.int(len);
      const how = rng.int(3);
      b[at] = how === 0
        ? rng.byte()
        : how === 1
        ? b[at] ^ (1 << rng.int(8))
        : rng.oneIn(2)
        ? 0
        : 0xff;
    }
    return len;
  }
  if (op < 11 && seed.fields.length > 0) {
    const f = seed.fields[rng.int(seed.fields.length)];
    if (f.off + f.width > len) return len;
    const cur = readField(b, f);
    const max = f.mask >>> f.shift;
    const pick = rng.int(DELTAS.length + 3);
    const v = pick < DELTAS.length
      ? cur + DELTAS[pick]
      : pick === DELTAS.length
      ? 0
      : pick === DELTAS.length + 1
      ? max
      : rng.int(max + 1);
    writeField(b, f, v);
    return len;
  }
  if (op < 13) {
    // Insert a run of random or repeated bytes.
    const at = rng.int(len + 1),
      n = Math.min(1 + rng.int(rng.oneIn(4) ? 256 : 16), MAX_FRAME - len);
    b.copyWithin(at + n, at, len);
    const fill = rng.oneIn(2) ? -1 : rng.byte();
    for (let i = 0; i < n; i++) b[at + i] = fill < 0 ? rng.byte() : fill;
    return len + n;
  }
  if (op < 14) {
    // Delete a run.
    const at = rng.int(len), n = 1 + rng.int(Math.min(32, len - at));
    b.copyWithin(at, at + n, len);
    return len - n;
  }
  // Duplicate a region right after itself, repeated: option floods, chains, loops.
  const at = rng.int(len), n = 1 + rng.int(Math.min(64, len - at));
  let reps = 1 + rng.int(rng.oneIn(4) ? 32 : 3);
  while (reps-- > 0 && len + n <= MAX_FRAME) {
    b.copyWithin(at + 2 * n, at + n, len);
    b.copyWithin(at + n, at, at + n);
    len += n;
  }
  return len;
}

/**
 * Every systematic variant of `seed` (each truncation, each length field at ±1/0/max, each byte
 * at 0x00/0xff/bit-7-flipped) written into `out`, calling `visit(len)` for each; returns the
 * count. Deterministic: no randomness.
 */
export function sweep(seed: Seed, out: Uint8Array, visit: (len: number) => void): number {
  const s = seed.bytes, L = s.length;
  let count = 0;
  for (let cut = 0; cut < L; cut++) {
    out.set(s);
    visit(cut);
    count++;
  }
  for (const f of seed.fields) {
    if (f.off + f.width > L) continue;
    for (const v of fieldValues(f, readField(s, f))) {
      out.set(s);
      writeField(out, f, v);
      visit(L);
      count++;
    }
  }
  for (let at = 0; at < L; at++) {
    for (const how of [0, 0xff, -1]) {
      out.set(s);
      out[at] = how < 0 ? s[at] ^ 0x80 : how;
      visit(L);
      count++;
    }
  }
  return count;
}
