// iperf3 TCP between two zones through the runtime (root), without and with checksum offload /
// TSO (virtio-net headers end to end). Usage:
//   npx deno run -A tests/runtime/iperf_tool.ts [runs=3] [seconds=1] [path=zone|rack]
// Prints one line per run and the median per mode. OFFLOAD=on|off (default both), STREAMS=n
// parallel flows (iperf3 -P), WORKERS=1,2 datapath workers to compare (default 1; each value
// gets its own bed, in the order given). PROFILE=1 runs the switch on the main thread so that
// `--cpu-prof` sees its loop (workers 1 only):
//   PROFILE=1 OFFLOAD=on npx deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof tests/runtime/iperf_tool.ts 1 5 rack
// Each run also prints the switch counters that moved (events such as gso-segmented, drops).

import { startRuntime } from "../../lib/runtime/mod.ts";
import { dropBed, iperf, makeBed, pingOk } from "./bed.ts";
import { sh } from "../link/netns.ts";
import { initialChanges } from "./fixture.ts";

const runs = Number(Deno.args[0] ?? 3), secs = Number(Deno.args[1] ?? 1);
const path = Deno.args[2] ?? "zone";

const env = (k: string) => Deno.env.get(k);
const offloads = env("OFFLOAD") ? [env("OFFLOAD") === "on"] : [false, true];
const streams = Number(env("STREAMS") ?? 1);
const workerCounts = (env("WORKERS") ?? "1").split(",").map(Number);
const profile = env("PROFILE") === "1";

for (
  const [offload, workers] of offloads.flatMap((o) => workerCounts.map((w) => [o, w] as const))
) {
  const b = makeBed();
  const mode = `offload=${offload} workers=${workers} streams=${streams}`;
  try {
    const dp = await startRuntime(b.config, {
      gzNetns: b.ns.gz,
      worker: !profile,
      offload,
      workers,
    });
    try {
      for (const c of initialChanges(b.config)) await dp.apply(c);
      const [srvNs, dst] = path === "rack" ? [b.ns.rack, "fd00:2::10"] : [b.ns.zb, "fd00:1::11"];
      if (!await pingOk(b.ns.za, dst)) throw new Error("no connectivity");
      // Without offload a kernel peer's partial checksums would cross the packet socket
      // unfinished (DESIGN.md pitfalls): the baseline needs tx offload off on the rack side.
      if (path === "rack" && !offload) {
        sh(["ip", "netns", "exec", b.ns.rack, "ethtool", "-K", `${b.u}r0`, "tx", "off"]);
      }
      const got: number[] = [];
      for (let i = 0; i < runs; i++) {
        const g = await iperf(srvNs, b.ns.za, dst, secs, streams);
        got.push(g);
        console.log(`${mode} run ${i + 1}: ${g.toFixed(2)} Gbps`);
      }
      got.sort((x, y) => x - y);
      console.log(
        `${mode} ${path}: median ${got[got.length >> 1].toFixed(2)} Gbps ` +
          `(${got.map((g) => g.toFixed(2)).join(" ")})`,
      );
      const seen = (await dp.counters()).filter((c) => c.value && /switch|link/.test(c.name));
      console.log(seen.map((c) => `${Object.values(c.labels).join("/")}=${c.value}`).join(" "));
    } finally {
      await dp.close();
    }
  } finally {
    dropBed(b);
  }
}
