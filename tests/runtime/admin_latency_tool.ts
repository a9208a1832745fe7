// Admin responsiveness while the datapath is saturated (root): the runtime runs in its Worker,
// the main thread serves HTTP (counters and port status, what /metrics and GET /ports read),
// and iperf3 pushes TCP between two zones meanwhile. Usage:
//   npx deno run -A tests/runtime/admin_latency_tool.ts [requests=2000] [offload=1]
// Prints p50/p99/max of HTTP request latency idle and under load.

import { startRuntime } from "../../lib/runtime/mod.ts";
import { dropBed, iperf, makeBed, pingOk } from "./bed.ts";
import { initialChanges } from "./fixture.ts";

const requests = Number(Deno.args[0] ?? 2000);
const offload = (Deno.args[1] ?? "1") === "1";

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

const b = makeBed();
try {
  const dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true, offload });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () =>
    Response.json({
      port: dp.portStatus(`${b.u}a`),
      counters: dp.counters().length,
    }));
  const url = `http://127.0.0.1:${server.addr.port}/`;
  try {
    for (const c of initialChanges(b.config)) await dp.apply(c);
    if (!await pingOk(b.ns.za, "fd00:1::11")) throw new Error("no connectivity");
    const measure = async (n: number) => {
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await (await fetch(url)).arrayBuffer();
        lat.push(performance.now() - t);
      }
      return lat;
    };
    await measure(100); // warm-up
    const idle = await measure(requests);
    const load = iperf(b.ns.zb, b.ns.za, "fd00:1::11", 5);
    await new Promise((r) => setTimeout(r, 800));
    const busy = await measure(requests);
    const gbps = await load;
    const row = (name: string, l: number[]) =>
      console.log(
        `${name}: p50 ${pct(l, 0.5).toFixed(2)} ms  p99 ${pct(l, 0.99).toFixed(2)} ms  ` +
          `max ${Math.max(...l).toFixed(2)} ms  (${l.length} requests)`,
      );
    row("idle", idle);
    row(`under load (iperf3 ${gbps.toFixed(2)} Gbps, offload=${offload})`, busy);
  } finally {
    await server.shutdown();
    await dp.close();
  }
} finally {
  dropBed(b);
}
