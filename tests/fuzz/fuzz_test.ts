// Short fuzz run (part of the suite) plus proofs that the oracle catches each failure class.
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { Checker } from "./check.ts";
import { runFuzz, seedPool } from "./harness.ts";
import { makeSeeds, MAX_FRAME, mutate, sweep } from "./mutate.ts";
import { Rng } from "./rng.ts";
import { frameArb } from "./arbitraries.ts";
import { seedFrames } from "./seeds.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import type { PacketMeta } from "../../lib/packet/meta.ts";

Deno.test("fuzz: 100k mutated and generated frames pass every check", () => {
  const r = runFuzz({ seed: 20261124, frames: 100_000, sweeps: false, decodeEvery: 4 });
  assert.deepEqual(r.failures.map((f) => `${f.source}: ${f.reason} ${f.hex}`), []);
  assert.equal(r.stats.frames, 100_000);
  // The mix reaches every target, not just the Ethernet header.
  assert.ok(r.stats.parsedOk > 20_000, `parsed ok ${r.stats.parsedOk}`);
  assert.ok(r.stats.parseErrors > 10_000, `parse errors ${r.stats.parseErrors}`);
  for (const k of ["encap", "dhcp", "dhcpv6", "ndp", "decoded"] as const) {
    assert.ok(r.stats[k] > 500, `${k}: ${r.stats[k]}`);
  }
  console.log(`fuzz short run: ${r.framesPerSecond} frames/s`);
});

Deno.test("fuzz: every truncation, length bend and byte extreme of every seed", () => {
  const checker = new Checker(8);
  const out = new Uint8Array(MAX_FRAME);
  let frames = 0;
  const bad: string[] = [];
  for (const s of makeSeeds(seedFrames())) {
    frames += sweep(s, out, (len) => {
      const r = checker.check(out, len);
      if (r !== null && bad.length < 5) bad.push(`${s.name}: ${r}`);
    });
  }
  assert.deepEqual(bad, []);
  assert.ok(frames > 50_000, `${frames} sweep frames`);
});

Deno.test("fuzz: fast-check frames, mutated, pass every check", () => {
  const checker = new Checker(1);
  const out = new Uint8Array(MAX_FRAME);
  const rng = new Rng();
  fc.assert(
    fc.property(frameArb, fc.integer({ min: 0, max: 0xffffffff }), (frame, seed) => {
      assert.equal(checker.check(frame, frame.length), null);
      const [s] = makeSeeds([["generated", frame]]);
      rng.reseed(seed);
      for (let k = 0; k < 8; k++) {
        const len = mutate(s, rng, out);
        const r = checker.check(out, len);
        assert.equal(r, null, `${r}`);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("fuzz: frame i of a run is reproducible from (seed, i)", () => {
  const pool = seedPool(7, 16);
  const a = new Uint8Array(MAX_FRAME), b = new Uint8Array(MAX_FRAME);
  const rng = new Rng();
  for (let i = 0; i < 200; i++) {
    const la = mutate(pool[i % pool.length], (rng.reseed(i), rng), a);
    const lb = mutate(pool[i % pool.length], (rng.reseed(i), rng), b);
    assert.deepEqual(a.subarray(0, la), b.subarray(0, lb));
  }
  assert.deepEqual(seedPool(7, 16).map((s) => s.bytes), pool.map((s) => s.bytes));
});

// The oracle must be able to fail: feed it parsers with each kind of bug.
const tcp = seedFrames().find(([n]) => n === "tcp syn mss ipv4")![1];

Deno.test("fuzz oracle: a parser reading one byte past the frame is caught", () => {
  const peek: typeof parseFrame = (buf, start, len, meta, g) => {
    const e = parseFrame(buf, start, len, meta, g);
    if (buf[start + len] === 0xff) meta.outer.tcpFlags ^= 1;
    return e;
  };
  const r = new Checker(0, peek).check(tcp, tcp.length);
  assert.match(r ?? "", /depends on bytes outside the frame/);
});

Deno.test("fuzz oracle: an offset past the frame end is caught", () => {
  const long: typeof parseFrame = (buf, start, len, meta: PacketMeta, g) => {
    const e = parseFrame(buf, start, len, meta, g);
    meta.outer.payload = start + len + 4;
    return e;
  };
  assert.match(new Checker(0, long).check(tcp, tcp.length) ?? "", /outer.payload = \d+ outside/);
});

Deno.test("fuzz oracle: a throw and a misordered header are caught", () => {
  const thrower: typeof parseFrame = () => {
    throw new RangeError("boom");
  };
  assert.match(new Checker(0, thrower).check(tcp, tcp.length) ?? "", /threw.*boom/);
  const swapped: typeof parseFrame = (buf, start, len, meta, g) => {
    const e = parseFrame(buf, start, len, meta, g);
    meta.outer.l4 = meta.outer.l3 + 2;
    return e;
  };
  assert.match(new Checker(0, swapped).check(tcp, tcp.length) ?? "", /out of order/);
});
