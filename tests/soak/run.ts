// `deno task soak [--flows N] [--seed S]`: the long load soak (default 1M flows). Prints the
// figures; exits 1 on any accounting, liveness, table or memory failure.

import { memoryFlat, runSoak } from "./soak.ts";

function num(name: string, dflt: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(Deno.args[i + 1]?.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < 0) {
    console.error(`soak: --${name} ${Deno.args[i + 1]}: not a non-negative integer`);
    Deno.exit(2);
  }
  return n;
}

const flows = num("flows", 1_000_000);
const hasGc = typeof (globalThis as { gc?: unknown }).gc === "function";
console.log(
  `soak: ${flows} flows${hasGc ? "" : " (no --expose-gc: heap figures include garbage)"}`,
);
const r = runSoak({ flows, seed: num("seed", 1), log: (l) => console.log(l) });
const mem = memoryFlat(r, 16, hasGc ? 4 : -1);
console.log(JSON.stringify({ ...r, rssMiB: undefined, heapMiB: undefined }, null, 1));
console.log(
  `flows: ${r.flows}, frames: ${r.frames}, ${r.seconds.toFixed(1)} s (${
    Math.round(r.flows / r.seconds)
  } flows/s), virtual ${r.virtualSeconds} s, established checks: ${r.establishedChecks}`,
);
console.log(`rss MiB: ${r.rssMiB.join(" ")}\nheap MiB: ${r.heapMiB.join(" ")}`);
for (const f of r.failures) console.log(`SOAK FAILURE: ${f}`);
if (mem !== null) console.log(`SOAK FAILURE: ${mem}`);
Deno.exit(r.failures.length === 0 && mem === null ? 0 : 1);
