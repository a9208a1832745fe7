// Run as `alloc_probe.ts PATH` with a young generation big enough that no collection happens
// during the measurement: then the growth of heapUsed over 5,000 polls (160,000 frames) is
// what the path allocated. Prints one JSON line. One path per process keeps every call site
// monomorphic, as in production.
import { benchSwitch, type Path } from "./benchsled.ts";

const p = Deno.args[0] as Path;
const { sw } = benchSwitch(p, undefined, { vnet: Deno.args[1] === "vnet" });
for (let i = 0; i < 3000; i++) sw.poll();
const before = Deno.memoryUsage().heapUsed;
for (let i = 0; i < 5000; i++) sw.poll();
const after = Deno.memoryUsage().heapUsed;
const c = sw.counters.toJSON();
console.log(JSON.stringify({ path: p, frames: 5000 * 32, grew: after - before, drops: c.drops }));
