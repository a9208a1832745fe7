// Whole-switch fuzz (short run) and proofs that its accounting oracle can fail.
import assert from "node:assert/strict";
import { checksumsOk, PipelineChecker, runPipelineFuzz, tablesBounded } from "./pipeline.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { memoryPair } from "../../lib/link/memory.ts";
import { GW_MAC } from "../switch/harness.ts";
import { fuzzSled } from "./sled.ts";

Deno.test("pipeline fuzz: 100k hostile frames into every port kind, both directions", () => {
  const r = runPipelineFuzz(20261124, 100_000);
  assert.deepEqual(r.failures, []);
  // Every side was fed, and the frames got deep enough to exercise each outcome class.
  for (const side of ["host", "zone-a", "nexus", "vm-a", "vm-b", "ul0", "ul1"]) {
    assert.ok(r.perSide[side] > 12_000, `${side}: ${r.perSide[side]}`);
  }
  for (const ev of ["overlay-out", "overlay-in", "hairpin-sent", "forwarded-underlay"]) {
    assert.ok(r.events[ev] > 100, `${ev}: ${r.events[ev]}`);
  }
  assert.ok(r.drops.vpc > 1000 && r.drops.parse > 10_000, JSON.stringify(r.drops));
  assert.ok(r.outcomes >= r.frames - r.refused);
});

Deno.test("pipeline oracle: a frame that vanishes without a counter is caught", () => {
  const pc = new PipelineChecker();
  // A side whose link is not attached to the switch: the frame disappears silently.
  const [, far] = memoryPair({ name: "detached" }, { name: "detached-far" });
  const side = { ...pc.side("vm-a"), link: far };
  const seed = pc.side("vm-a").seeds[3][1];
  assert.match(pc.check(side, seed) ?? "", /vanished/);
  assert.equal(pc.check(pc.side("vm-a"), seed), null);
});

Deno.test("pipeline oracle: a pipeline that throws is an internal drop, and is caught", () => {
  const s = fuzzSled();
  const [mine, guest] = memoryPair({ name: "bad" }, {
    name: "bad-guest",
    mac: "a8:40:25:fa:00:99",
  });
  s.sw.addPort({
    name: "bad",
    kind: "instance",
    link: mine,
    mac: "a8:40:25:fa:00:99",
    vni: 10,
    pipeline: {
      process: () => {
        throw new Error("pipeline bug");
      },
      result: {},
    } as never,
  });
  const pc = new PipelineChecker(s);
  const side = { name: "bad", link: guest, mac: new Uint8Array(6), seeds: [] };
  const frame = pc.side("vm-a").seeds[3][1].slice();
  frame.set([0xa8, 0x40, 0x25, 0xfa, 0x00, 0x99], 6);
  assert.deepEqual(
    frame.subarray(0, 6),
    Uint8Array.from(GW_MAC.split(":"), (h) => parseInt(h, 16)),
  );
  assert.match(pc.check(side, frame) ?? "", /internal drop: .*pipeline bug/s);
  assert.equal(tablesBounded(s), null);
});

Deno.test("pipeline oracle: checksumsOk rejects one flipped payload bit, accepts the original", () => {
  const pc = new PipelineChecker();
  const meta = new PacketMeta();
  for (const side of pc.sides) {
    for (const [name, f] of side.seeds) {
      assert.equal(parseFrame(f, 0, f.length, meta, side.name.startsWith("ul")), null, name);
      assert.ok(checksumsOk(f, meta), `${side.name} ${name}`);
      if (meta.flow.l4 < 0) continue;
      const bad = f.slice();
      bad[meta.flow.l4 + 1] ^= 0x10; // the source port's low byte: covered by every L4 checksum
      assert.ok(!checksumsOk(bad, meta), `${side.name} ${name} with a flipped bit`);
    }
  }
});
