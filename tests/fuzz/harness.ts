// The fuzz loop: systematic sweeps of every seed, then random mutations of seeds and of
// fast-check-generated frames, plus raw random bytes, each checked by the Checker. Frame i of
// a run is a pure function of (seed, i), so a failure is reported as seed, frame index and
// hex, written to the corpus, and replayable alone.

import { toHex } from "../../lib/packet/bytes.ts";
import { Checker, CheckStats } from "./check.ts";
import { makeSeeds, MAX_FRAME, mutate, type Seed, sweep } from "./mutate.ts";
import { frameSeed, Rng } from "./rng.ts";
import { seedFrames } from "./seeds.ts";
import { sampleFrames } from "./arbitraries.ts";
import { saveEntry } from "./corpus.ts";

/** How to run. */
export interface FuzzOptions {
  seed: number;
  /** Random frames after the sweeps. */
  frames: number;
  /** Stop the random phase after this long even if `frames` is not reached. */
  seconds?: number;
  /** Run the systematic sweeps first. */
  sweeps?: boolean;
  /** fast-check frames added to the seed pool. */
  generated?: number;
  /** Run decode on one frame in this many. */
  decodeEvery?: number;
  /** Write failures to the corpus. */
  saveFailures?: boolean;
  /** Stop after this many distinct failures. */
  maxFailures?: number;
  log?: (line: string) => void;
}

/** One failing frame. */
export interface Failure {
  seed: number;
  /** Random-phase frame index, or -1 for a sweep frame. */
  frame: number;
  source: string;
  reason: string;
  hex: string;
  file?: string;
}

/** What a run did. */
export interface FuzzResult {
  sweepFrames: number;
  randomFrames: number;
  seconds: number;
  framesPerSecond: number;
  failures: Failure[];
  stats: CheckStats;
}

/** The seed pool of a run: built-in seeds plus `generated` fast-check frames. */
export function seedPool(seed: number, generated: number): Seed[] {
  return makeSeeds([...seedFrames(), ...sampleFrames(seed, generated)]);
}

/** Regenerates random-phase frame `i` of run `seed` into `out`; returns [length, source]. */
export function frameAt(pool: Seed[], seed: number, i: number, rng: Rng, out: Uint8Array) {
  rng.reseed(frameSeed(seed, i));
  if (rng.oneIn(16)) {
    // Raw bytes: mostly short, sometimes Ethernet-shaped with an IP EtherType.
    const len = rng.int(rng.oneIn(4) ? 1600 : 96);
    for (let k = 0; k < len; k++) out[k] = rng.byte();
    if (len >= 14 && rng.oneIn(2)) {
      out[12] = rng.oneIn(2) ? 0x86 : 0x08;
      out[13] = out[12] === 0x86 ? 0xdd : 0x00;
    }
    return [len, "random bytes"] as const;
  }
  const s = pool[rng.int(pool.length)];
  return [mutate(s, rng, out), s.name] as const;
}

/** Runs the fuzzer; never throws for a failing frame (failures are returned). */
export function runFuzz(o: FuzzOptions): FuzzResult {
  const log = o.log ?? (() => {});
  const checker = new Checker(o.decodeEvery ?? 16);
  const pool = seedPool(o.seed, o.generated ?? 256);
  const out = new Uint8Array(MAX_FRAME);
  const failures: Failure[] = [];
  const seen = new Set<string>();
  const maxFailures = o.maxFailures ?? 20;
  const t0 = performance.now();

  const fail = (frame: number, source: string, reason: string, len: number) => {
    const key = `${source}|${reason.split("\n")[0].replace(/-?\d+/g, "#")}`;
    if (seen.has(key)) return;
    seen.add(key);
    const f: Failure = { seed: o.seed, frame, source, reason, hex: toHex(out.subarray(0, len)) };
    if (o.saveFailures) {
      f.file = saveEntry("found", out.slice(0, len), {
        name: `${source}: ${reason.split("\n")[0]}`.slice(0, 200),
        note: reason.split("\n").slice(0, 6).join("\n"),
        seed: o.seed,
        frame,
      });
    }
    failures.push(f);
    log(
      `FUZZ FAILURE seed=${o.seed} frame=${frame} source="${source}"${
        f.file ? ` corpus=${f.file}` : ""
      }\n  ${reason.split("\n").slice(0, 4).join("\n  ")}\n  hex=${f.hex}`,
    );
  };

  let sweepFrames = 0;
  if (o.sweeps ?? true) {
    for (const s of pool) {
      sweepFrames += sweep(s, out, (len) => {
        const r = checker.check(out, len);
        if (r !== null) fail(-1, `sweep of ${s.name}`, r, len);
      });
      if (failures.length >= maxFailures) break;
    }
    log(`sweeps: ${sweepFrames} frames over ${pool.length} seeds`);
  }

  const rng = new Rng();
  const deadline = o.seconds === undefined ? Infinity : t0 + o.seconds * 1000;
  let i = 0;
  for (; i < o.frames && failures.length < maxFailures; i++) {
    const [len, source] = frameAt(pool, o.seed, i, rng, out);
    const r = checker.check(out, len);
    if (r !== null) fail(i, source, r, len);
    if ((i & 0xfffff) === 0xfffff) {
      const now = performance.now();
      const fps = Math.round((checker.stats.frames * 1000) / (now - t0));
      log(`${i + 1} random frames, ${fps} frames/s, ${failures.length} failures`);
      if (now > deadline) {
        i++;
        break;
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    sweepFrames,
    randomFrames: i,
    seconds,
    framesPerSecond: Math.round((sweepFrames + i) / seconds),
    failures,
    stats: checker.stats,
  };
}
