// Run by scale_test.ts (and usable by hand) in a child Deno so the test runner's heap does not
// blur the figure: sets up N outbound flows through the VPC-shaped port and prints RSS growth,
// setup rate and table occupancy as JSON. Usage: deno run -A scale_check.ts [N] [udp|tcp]
// (tcp: each flow is a client SYN, so it also holds a TCP connection in SYN_SENT).

import { DIR_OUT, RES_MODIFIED } from "../../lib/engine/mod.ts";
import { guestTcpSyn, guestUdp, nthFlow, Replay, vpcLikePort } from "./fixtures.ts";

const n = Number(Deno.args[0] ?? 1_000_000);
const tcp = Deno.args[1] === "tcp";
const mib = (b: number) => Math.round(b / 1048576);
const rss0 = Deno.memoryUsage().rss;
const port = vpcLikePort([], n);
const r = new Replay(tcp ? guestTcpSyn() : guestUdp(64));
const rssTables = Deno.memoryUsage().rss;
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  if (port.process(DIR_OUT, nthFlow(r, i)) !== RES_MODIFIED) {
    throw new Error(`flow ${i}: ${port.result.reason}`);
  }
}
const ms = performance.now() - t0;
// Every flow must now be a fast-path hit (a sample across the set).
let hits = 0;
for (let i = 0; i < n; i += 997) {
  port.process(DIR_OUT, nthFlow(r, i));
  if (port.result.fastPath) hits++;
}
const mem = Deno.memoryUsage();
console.log(JSON.stringify({
  flows: n,
  proto: tcp ? "tcp" : "udp",
  uft: port.uft[DIR_OUT].size,
  tcp: port.tcp.size,
  lftPairs: port.layer("firewall").pairCount,
  sampledHits: hits,
  sampled: Math.ceil(n / 997),
  setupMs: Math.round(ms),
  flowsPerSec: Math.round(n / (ms / 1000)),
  rssBeforeMiB: mib(rss0),
  rssTablesMiB: mib(rssTables),
  rssAfterMiB: mib(mem.rss),
  heapUsedMiB: mib(mem.heapUsed),
}));
