// Table cost at scale. Names are stable so figures compare across commits:
//   uft lookup 1M flows        one UFT probe (random key) with 1,000,000 entries installed
//   fastpath encap 1M flows    a full fast-path packet of a random one of those flows
//   v2p lookup 1M mappings     one V2P probe (random address) with 1,000,000 mappings
// RSS before/after installing the flows is printed once (the flows are UDP through the five-layer
// VPC-shaped port: one UFT entry and one firewall LFT pair each).

import { DIR_OUT, RES_MODIFIED } from "../../lib/engine/mod.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { V2P } from "../../lib/vpc/mappings.ts";
import { guestUdp, nthFlow, Replay, vpcLikePort } from "../engine/fixtures.ts";

const N = 1_000_000;
const mib = (b: number) => (b / 1048576).toFixed(0);

const rss0 = Deno.memoryUsage().rss;
const port = vpcLikePort([], N);
const r = new Replay(guestUdp(64));
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  if (port.process(DIR_OUT, nthFlow(r, i)) !== RES_MODIFIED) throw new Error(`flow ${i}`);
}
const setupMs = performance.now() - t0;
const rss1 = Deno.memoryUsage().rss;
console.error(
  `scale: ${N} flows: rss ${mib(rss0)} → ${mib(rss1)} MiB (+${mib(rss1 - rss0)}), ` +
    `setup ${(N / setupMs * 1000).toFixed(0)} flows/s`,
);

// The key of flow i differs from flow 0's only in the source address word.
const key = new FlowId();
{
  const p = nthFlow(r, 0);
  key.setV4(17, p.buf, p.meta.flow.l3 + 12, p.meta.flow.l3 + 16, 40000, 443);
}
const uft = port.uft[DIR_OUT];
for (let i = 0; i < N; i += 4999) {
  key.w[1] = ((10 << 24) | (i + 1)) >>> 0;
  if (uft.find(key) < 0) throw new Error(`bench setup: flow ${i} not in the UFT`);
}

let x = 12345;
function next(): number {
  x = (Math.imul(x, 1664525) + 1013904223) | 0;
  return (x >>> 0) % N;
}

Deno.bench("uft lookup 1M flows", () => {
  key.w[1] = ((10 << 24) | (next() + 1)) >>> 0;
  if (uft.find(key) < 0) throw new Error("uft lookup: flow not found");
});

Deno.bench("fastpath encap 1M flows", () => {
  const code = port.process(DIR_OUT, nthFlow(r, next()));
  if (code !== RES_MODIFIED || !port.result.fastPath) throw new Error("fastpath: not a UFT hit");
});

const v2p = new V2P();
const mac = new Uint8Array([0xa8, 0x40, 0x25, 0, 0, 1]);
const ul = new Uint8Array(16);
ul[0] = 0xfd;
for (let i = 0; i < N; i++) {
  const a = i + 1;
  ul[15] = i & 255;
  v2p.setBytes(10, `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`, mac, ul);
}
const words = new Uint32Array(4);
words[0] = ((10 << 24) | 1) >>> 0;
if (v2p.size !== N || v2p.lookup(10, 4, words) < 0) throw new Error("bench setup: v2p");

Deno.bench("v2p lookup 1M mappings", () => {
  words[0] = ((10 << 24) | (next() + 1)) >>> 0;
  if (v2p.lookup(10, 4, words) < 0) throw new Error("v2p lookup: mapping not found");
});
