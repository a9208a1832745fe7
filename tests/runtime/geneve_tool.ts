// iperf3 TCP between two instances on two sleds (root): each sled is a runtime with its switch in
// its own Worker, the sleds' underlay links are the two ends of one veth ("the rack"), so the
// instances' traffic crosses both VPC pipelines and Geneve. Usage:
//   npx deno run -A tests/runtime/geneve_tool.ts [runs=3] [seconds=1] [offload=off|on|both]
// Prints one line per run and the median. To profile one sled's loop, run it on the main thread:
//   PROFILE_SLED=1 npx deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof tests/runtime/geneve_tool.ts 1 5 on
// CPS=1 measures new TCP connections per second (the harness's `cps` probe) instead of iperf3.

import { startRuntime } from "../../lib/runtime/mod.ts";
import { delNetns, sh, uniq } from "../link/netns.ts";
import { connRate } from "../../lib/testbed/measure.ts";
import { iperf, pingOk, plumbGuest } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
import { twoSleds } from "./sleds.ts";

const runs = Number(Deno.args[0] ?? 3), secs = Number(Deno.args[1] ?? 1);
const modes = { off: [false], on: [true], both: [false, true] }[Deno.args[2] ?? "both"] ?? [false];

for (const offload of modes) {
  const u = uniq();
  const ns = [`${u}-g1`, `${u}-g2`, `${u}-v1`, `${u}-v2`];
  try {
    const { configs: cfgs } = twoSleds(u);
    const dps = [];
    try {
      for (const i of [0, 1]) {
        // PROFILE_SLED=1|2 runs that sled on the main thread, where `--cpu-prof` sees it.
        const worker = Deno.env.get("PROFILE_SLED") !== String(i + 1);
        const dp = await startRuntime(cfgs[i], { gzNetns: ns[i], worker, offload });
        dps.push(dp);
        for (const c of initialChanges(cfgs[i])) await dp.apply(c);
      }
      plumbGuest(ns[2], `${u}v1`, "172.30.0.10");
      plumbGuest(ns[3], `${u}v2`, "172.30.0.11");
      if (!await pingOk(ns[2], "172.30.0.11")) throw new Error("no connectivity");
      if (Deno.env.get("SHOW_RTT")) {
        const r = sh([
          "ip",
          "netns",
          "exec",
          ns[2],
          ..."ping -q -c 200 -i 0.005 172.30.0.11".split(" "),
        ]);
        console.log(r.trim().split("\n").at(-1));
      }
      if (Deno.env.get("SHOW_OFFLOAD")) {
        console.log(sh(["ip", "netns", "exec", ns[2], "ethtool", "-k", `${u}v1`]));
      }
      const got: number[] = [];
      for (let i = 0; i < runs; i++) {
        const cps = Deno.env.get("CPS") === "1";
        const g = cps
          ? await connRate({ client: ns[2], server: ns[3], dst: "172.30.0.11" }, secs) / 1000
          : await iperf(ns[3], ns[2], "172.30.0.11", secs);
        got.push(g);
        console.log(`offload=${offload} run ${i + 1}: ${g.toFixed(2)} ${cps ? "kconn/s" : "Gbps"}`);
      }
      got.sort((x, y) => x - y);
      console.log(
        `offload=${offload} geneve 2 sleds: median ${got[got.length >> 1].toFixed(2)} ${
          Deno.env.get("CPS") === "1" ? "kconn/s" : "Gbps"
        } ` +
          `(${got.map((g) => g.toFixed(2)).join(" ")})`,
      );
      for (const [i, dp] of dps.entries()) {
        const seen = dp.counters().filter((c) =>
          c.value && (Deno.env.get("ALL") || /switch|link|port/.test(c.name))
        );
        console.log(
          `sled ${i + 1}:`,
          seen.map((c) => `${c.name}:${Object.values(c.labels).join("/")}=${c.value}`).join(" "),
        );
      }
    } finally {
      for (const dp of dps) await dp.close();
    }
  } finally {
    for (const n of ns) delNetns(n);
  }
}
