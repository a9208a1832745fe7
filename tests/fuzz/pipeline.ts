// Phase 2 of the fuzzer: the same kinds of hostile frames fed into every port kind of a whole
// switch, both directions (clients' ends and underlay rack ends), one frame per pass so each
// frame's outcome can be read off the counters. Checks: nothing escapes poll, no frame hits
// the `internal` (bug) drop, every frame is accounted for (a drop reason or a forwarding /
// hairpin / reply event), every frame the switch emits parses strictly, and tables and reason
// maps stay bounded.

import { toHex } from "../../lib/packet/bytes.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { DROP, EV, EVENTS } from "../../lib/switch/counters.ts";
import { verifyIpv4Header, verifyL4Checksum } from "../../lib/packet/checksum.ts";
import type { HeaderLevel } from "../../lib/packet/meta.ts";
import { rackAnswers } from "../switch/harness.ts";
import { makeSeeds, MAX_FRAME, mutate, type Seed } from "./mutate.ts";
import { frameSeed, Rng } from "./rng.ts";
import { seedFrames } from "./seeds.ts";
import { saveEntry } from "./corpus.ts";
import { type FuzzSled, fuzzSled, type Side, sides } from "./sled.ts";

/** Events that end a received frame's life (timer events such as ns-sent are not). */
const TERMINAL = EVENTS.filter((e) =>
  e !== "ns-sent" && e !== "next-hop-down" && e !== "next-hop-up"
).map((e) => EV[e]);

function total(a: Float64Array, idx?: readonly number[]): number {
  let t = 0;
  if (idx) { for (const i of idx) t += a[i]; }
  else for (let i = 0; i < a.length; i++) t += a[i];
  return t;
}

function levelSumsOk(b: Uint8Array, l: HeaderLevel, tunnel: boolean): boolean {
  if (l.ipVersion === 4 && !verifyIpv4Header(b, l.l3)) return false;
  return verifyL4Checksum(b, l, tunnel);
}

/** True when every IPv4 header and L4 checksum of a parsed frame is correct. */
export function checksumsOk(b: Uint8Array, m: PacketMeta): boolean {
  return levelSumsOk(b, m.outer, m.encap) && (!m.encap || levelSumsOk(b, m.inner, false));
}

/** Feeds single frames into a fuzz sled and checks what the switch did with each. */
export class PipelineChecker {
  readonly sides: Side[];
  dropped = 0;
  outcomes = 0;
  emitted = 0;
  refused = 0;
  frames = 0;
  private readonly meta = new PacketMeta();

  constructor(readonly sled: FuzzSled = fuzzSled()) {
    this.sides = sides(sled);
  }

  /** The side named `name`. */
  side(name: string): Side {
    const s = this.sides.find((x) => x.name === name);
    if (!s) throw new Error(`no fuzz sled side "${name}"`);
    return s;
  }

  /** Frames in with correct checksums, whose outputs were all checked to be correct too. */
  checksummed = 0;

  /**
   * Injects `frame` at `side`, runs one pass, returns why it failed or null. A frame that came
   * in with correct checksums must leave (forwarded, translated, encapsulated, or answered)
   * with correct checksums.
   */
  check(side: Side, frame: Uint8Array): string | null {
    const c = this.sled.sw.counters;
    this.frames++;
    const ul = side.name.startsWith("ul");
    const sound = parseFrame(frame, 0, frame.length, this.meta, ul) === null &&
      checksumsOk(frame, this.meta);
    if (sound) this.checksummed++;
    const d0 = total(c.drops), e0 = total(c.events, TERMINAL), internal0 = c.drops[DROP.internal];
    // A frame over the link's MTU never reaches the switch: the link counts it, not us.
    if (!side.link.inject(frame)) {
      this.refused++;
      return null;
    }
    try {
      this.sled.sw.poll();
    } catch (e) {
      return `poll threw: ${e instanceof Error ? e.stack : e}`;
    }
    const dd = total(c.drops) - d0, de = total(c.events, TERMINAL) - e0;
    this.dropped += dd;
    this.outcomes += dd + de;
    let why: string | null = null;
    if (c.drops[DROP.internal] > internal0) why = `internal drop: ${this.sled.sw.lastError}`;
    else if (dd + de === 0) why = "frame vanished: no drop reason, no event";
    else if (dd > 1) why = `one frame counted as ${dd} drops`;
    for (const other of this.sides) {
      for (const f of other.link.take()) {
        this.emitted++;
        // On the underlay a frame must parse as Geneve, unless it is a client's own UDP to port
        // 6081 passed through untouched: the switch does not open its clients' datagrams.
        const ul = other.name.startsWith("ul");
        let e = parseFrame(f, 0, f.length, this.meta, ul);
        if (e !== null && ul) e = parseFrame(f, 0, f.length, this.meta, false);
        if (e !== null && why === null) {
          why =
            `switch emitted on ${other.name} a frame that does not parse (${e.kind} ${e.at} @${e.offset}): ${
              toHex(f)
            }`;
        }
        if (e === null && sound && why === null) {
          // Tunnel packets passed through keep their zero UDP checksum (RFC 6935): judge the
          // checksums with Geneve recognised when the frame parses as a tunnel packet.
          if (parseFrame(f, 0, f.length, this.meta, true) !== null) {
            parseFrame(f, 0, f.length, this.meta, false);
          }
          if (!checksumsOk(f, this.meta)) {
            why = `switch emitted on ${other.name} a frame with a bad checksum: ${toHex(f)}`;
          }
        }
      }
    }
    return why;
  }

  /** Advances time past flow TTLs and keeps the rack's next hops resolved (not accounted). */
  housekeeping(ms = 2000): void {
    const s = this.sled;
    s.step(ms);
    rackAnswers(s);
    s.step();
    for (const side of this.sides) side.link.take();
  }
}

/** What a pipeline fuzz run did. */
export interface PipelineResult {
  frames: number;
  perSide: Record<string, number>;
  dropped: number;
  /** Frames that came in with correct checksums (all their outputs were checked too). */
  checksummed: number;
  outcomes: number;
  emitted: number;
  /** Frames the memory link refused (over its MTU), counted by the link. */
  refused: number;
  seconds: number;
  failures: string[];
  drops: Record<string, number>;
  events: Record<string, number>;
}

/** Feeds `frames` mutated frames into a fresh sled from every side; returns what happened. */
export function runPipelineFuzz(seed: number, frames: number, saveFailures = false) {
  const t0 = performance.now();
  const pc = new PipelineChecker();
  const seedsOf = pc.sides.map((side) => makeSeeds(side.seeds));
  const generic = makeSeeds(seedFrames());
  const rng = new Rng(), out = new Uint8Array(MAX_FRAME);
  const perSide: Record<string, number> = {};
  const failures: string[] = [];
  const fail = (side: Side, why: string, len: number) => {
    const hex = toHex(out.subarray(0, len));
    const file = saveFailures
      ? saveEntry("pipeline", out.slice(0, len), {
        name: why.split("\n")[0].slice(0, 200),
        side: side.name,
        seed,
        note: why.slice(0, 2000),
      })
      : undefined;
    const shown = hex.length > 400 ? `${hex.slice(0, 400)}…` : hex;
    failures.push(`${side.name}: ${why.slice(0, 600)}\n  hex=${shown}${file ? ` -> ${file}` : ""}`);
  };

  for (let i = 0; i < frames && failures.length < 10; i++) {
    if (i % 5000 === 4999) pc.housekeeping();
    rng.reseed(frameSeed(seed, i));
    const k = rng.int(pc.sides.length), side = pc.sides[k];
    const own = !rng.oneIn(6);
    const pick: Seed = own
      ? seedsOf[k][rng.int(seedsOf[k].length)]
      : generic[rng.int(generic.length)];
    const len = rng.oneIn(10) ? (out.set(pick.bytes), pick.bytes.length) : mutate(pick, rng, out);
    // Most foreign frames would die at the L2 filter; give half of them this side's MAC.
    if (len >= 6 && !own && rng.oneIn(2)) out.set(side.mac, 0);
    perSide[side.name] = (perSide[side.name] ?? 0) + 1;
    const why = pc.check(side, out.slice(0, len));
    if (why !== null) fail(side, why, len);
  }
  const bounded = tablesBounded(pc.sled);
  if (bounded !== null) failures.push(bounded);
  const j = pc.sled.sw.counters.toJSON();
  return {
    frames,
    perSide,
    dropped: pc.dropped,
    checksummed: pc.checksummed,
    outcomes: pc.outcomes,
    emitted: pc.emitted,
    refused: pc.refused,
    seconds: (performance.now() - t0) / 1000,
    failures,
    drops: j.drops,
    events: j.events,
  } satisfies PipelineResult;
}

/** Every engine table within its limit and every reason map small (reasons are constants). */
export function tablesBounded(s: FuzzSled): string | null {
  if (s.sw.ov.reasons.size > 64) return `switch overlay reasons: ${s.sw.ov.reasons.size} keys`;
  for (const [name, { vpc }] of Object.entries(s.vms)) {
    const p = vpc.port;
    for (const t of [p.uft[0], p.uft[1], p.tcp]) {
      if (t.size > t.limit) return `${name}: table ${t.size} > limit ${t.limit}`;
    }
    for (const L of p.layers) {
      for (const t of L.lft) {
        if (t.size > t.limit) return `${name}: ${L.name} LFT ${t.size} > limit ${t.limit}`;
      }
    }
    if (p.stats.drops.size > 64) return `${name}: ${p.stats.drops.size} drop reason keys`;
    if (p.stats.errors.size > 64) return `${name}: ${p.stats.errors.size} error reason keys`;
  }
  return null;
}
