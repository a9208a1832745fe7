// How long a control request to an idle datapath Worker takes (root): zone ports on a test bed,
// then `describe()` 200 times, 7 ms apart (the loop is asleep in poll(2) each time). Usage:
//   npx deno run -A tests/runtime/request_latency_tool.ts
// Prints the p50/p99 round trip.

import { startRuntime } from "../../lib/runtime/mod.ts";
import { dropBed, makeBed } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
const b = makeBed();
const dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true, offload: false });
try {
  for (const c of initialChanges(b.config)) await dp.apply(c);
  const t: number[] = [];
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 7));
    const s = performance.now();
    await (dp as unknown as { describe(): Promise<unknown> }).describe();
    t.push((performance.now() - s) * 1000);
  }
  t.sort((a, b) => a - b);
  console.log(`describe() idle: p50 ${t[100].toFixed(0)} µs p99 ${t[197].toFixed(0)} µs`);
} finally {
  await dp.close();
  dropBed(b);
}
