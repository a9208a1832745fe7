// Run as `alloc_probe.ts PATH [vnet|prod] [plant]` with a young generation big enough that no
// collection happens during the measurement: then the growth of heapUsed over 5,000 polls
// (160,000 frames) is what the path allocated. `prod` runs the production pipeline
// (prodsled.ts) with the production clock; `plant` allocates one small object per frame on
// purpose, to show the check sees it. Prints one JSON line. One path per process keeps every
// call site monomorphic, as in production.
import { benchSwitch, type Path } from "./benchsled.ts";
import { type ProdPath, prodSwitch } from "./prodsled.ts";

const [p, mode, plant] = Deno.args;
const b = mode === "prod"
  ? prodSwitch(p as ProdPath)
  : benchSwitch(p as Path, undefined, { vnet: mode === "vnet" });
if (plant === "plant") b.plant();
for (let i = 0; i < 3000; i++) b.sw.poll();
const sent0 = b.sent(), drops0 = b.drops();
const before = Deno.memoryUsage().heapUsed;
for (let i = 0; i < 5000; i++) b.sw.poll();
const after = Deno.memoryUsage().heapUsed;
console.log(JSON.stringify({
  path: p,
  frames: 5000 * 32,
  grew: after - before,
  sent: b.sent() - sent0,
  dropped: b.drops() - drops0,
  drops: b.sw.counters.toJSON().drops,
}));
