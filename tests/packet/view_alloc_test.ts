import assert from "node:assert/strict";
import { runAllocProbe } from "../alloc_probe.ts";

const probe = new URL("./view_alloc_probe.ts", import.meta.url).pathname;

/** Bytes of heap growth per round, measured in a child with GC held off. */
async function perRound(...args: string[]): Promise<number> {
  return (await runAllocProbe<{ perRound: number }>(probe, ...args)).perRound;
}

Deno.test("re-pointing views and their compare-at / copy-into accessors allocate nothing", async () => {
  // One 16-byte object per round would show as >= 16 (and one every fourth round as >= 4). What
  // is left below that is the JIT's own heap use (feedback, optimised code), which a loaded
  // machine spreads over the measured rounds: 0.05–0.6 B here.
  const r = await perRound();
  assert.ok(r < 4, `${r.toFixed(2)} bytes per round`);
});

Deno.test("the view allocation check sees a subarray getter per round (planted)", async () => {
  const r = await perRound("plant");
  assert.ok(r >= 16, `planted subarray not seen: ${r.toFixed(2)} bytes per round`);
});
