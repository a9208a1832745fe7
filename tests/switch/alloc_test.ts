import assert from "node:assert/strict";
import { runAllocProbe } from "../alloc_probe.ts";
import { PROD_PATHS } from "./prodsled.ts";

const PATHS = [
  "zone→zone",
  "zone→underlay",
  "underlay→zone",
  "overlay out",
  "overlay in",
  "overlay loopback",
];
const probe = new URL("./alloc_probe.ts", import.meta.url).pathname;

interface Probe {
  frames: number;
  grew: number;
  sent: number;
  dropped: number;
  drops: Record<string, number>;
}

/** Runs the probe in a child with 64 MiB semi-spaces: no scavenge, so heap growth = bytes. */
function measure(...args: string[]): Promise<Probe> {
  return runAllocProbe<Probe>(probe, ...args);
}

/** Bytes per batch of 32. The clock read per poll costs a boxed number (~20-35 bytes) and the
 * JIT's own heap use adds some under load (≈40 quiet, 69 seen with the machine busy); one 8-byte
 * allocation per frame would be 256 bytes per batch, so the bound sits between the two. */
function perPoll(r: Probe): number {
  return r.grew / (r.frames / 32);
}

/** Below one allocation per frame (256 B a batch), above the JIT's noise. */
const BOUND = 128;

const CASES = [
  ...PATHS.map((p) => [p, ""]),
  ["zone→zone", "vnet"],
  ["zone→underlay", "vnet"],
  ["overlay out", "vnet"],
  ["overlay tso", "vnet"],
  ["overlay uso", "vnet"],
  ["overlay gro", "vnet"],
  ["zone gro", "vnet"],
  ["overlay out gro", ""],
];

for (const [path, mode] of CASES) {
  Deno.test(`the ${path}${mode ? ` (${mode})` : ""} path allocates nothing per frame (160,000 frames)`, async () => {
    const r = await measure(path, mode);
    assert.deepEqual(r.drops, {});
    assert.ok(
      perPoll(r) < BOUND,
      `${path}: ${perPoll(r).toFixed(1)} bytes allocated per batch of 32`,
    );
  });
}

// The production pipeline (lib/vpc's VPC port as the runtime builds it, performance.now() as
// the engine's clock), forwarding and dropping floods. A denied flow never gets a UFT entry, so
// every packet of a deny flood walks the layers: the slow path must not allocate either.
for (const path of PROD_PATHS) {
  Deno.test(`production: ${path} allocates nothing per frame (160,000 frames)`, async () => {
    const r = await measure(path, "prod");
    const drops = path === "deny flood" || path === "spoof flood" || path === "geneve no port";
    // The work was done: every frame forwarded, or every frame dropped and counted.
    assert.equal(drops ? r.dropped : r.sent, r.frames, JSON.stringify(r));
    assert.equal(drops ? r.sent : r.dropped, 0, JSON.stringify(r));
    assert.ok(perPoll(r) < BOUND, `${path}: ${perPoll(r).toFixed(1)} bytes per batch of 32`);
  });
}

Deno.test("the allocation check sees one small object per frame (planted)", async () => {
  const r = await measure("vpc out", "prod", "plant");
  assert.equal(r.sent, r.frames);
  assert.ok(perPoll(r) >= 32 * 16, `planted allocation not seen: ${perPoll(r).toFixed(1)} B`);
});
