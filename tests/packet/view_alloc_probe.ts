// Run by view_alloc_test.ts in a child Deno with a large young generation, so no scavenge hides
// allocations: prints bytes of heap growth per round of re-pointing views and using their
// compare-at / copy-into address accessors. With "plant", each round also reads one address
// through the subarray getter, which the test must see.

import { EthernetView } from "../../lib/packet/ethernet.ts";
import { Ipv4View } from "../../lib/packet/ipv4.ts";
import { Ipv6View } from "../../lib/packet/ipv6.ts";
import { ArpView } from "../../lib/packet/arp.ts";
import { NdpView } from "../../lib/packet/ndp.ts";

const plant = Deno.args.includes("plant");
const a = new Uint8Array(256).map((_, i) => i);
const b = new Uint8Array(256).map((_, i) => 255 - i);
const mac = new Uint8Array(6), ip4 = new Uint8Array(4), ip6 = new Uint8Array(16);
const eth = new EthernetView(a, 0), v4 = new Ipv4View(a, 14), v6 = new Ipv6View(a, 14);
const arp = new ArpView(a, 14), ndp = new NdpView(a, 54, 100);
// Kept a small integer: a growing double would be boxed on every store.
let sink = 0;

function round(i: number): void {
  const buf = (i & 1) === 0 ? a : b;
  const off = i & 7;
  eth.reset(buf, off);
  v4.reset(buf, off + 14);
  v6.reset(buf, off + 14);
  arp.reset(buf, off + 14);
  ndp.reset(buf, off + 54, off + 100);
  eth.copySrcInto(mac);
  if (eth.dstEquals(mac)) sink = (sink + 1) | 0;
  if (eth.dstIsGroup) sink = (sink + 1) | 0;
  eth.setDstFrom(mac);
  v4.copyDstInto(ip4);
  if (v4.srcEquals(ip4)) sink = (sink + 1) | 0;
  sink = (sink + (v4.srcWord ^ v4.dstWord)) | 0;
  v6.copySrcInto(ip6);
  if (v6.dstEquals(ip6)) sink = (sink + 1) | 0;
  v6.setSrcFrom(ip6);
  arp.copySenderIpInto(ip4);
  if (arp.targetIpEquals(ip4) || arp.senderMacEquals(mac)) sink = (sink + 1) | 0;
  ndp.copyTargetInto(ip6);
  if (ndp.targetEquals(ip6)) sink = (sink + 1) | 0;
  if (plant) sink = (sink + v6.src.length) | 0;
}

const N = 200_000;
for (let i = 0; i < 50_000; i++) round(i);
const before = Deno.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) round(i);
const grew = Deno.memoryUsage().heapUsed - before;
console.log(JSON.stringify({ perRound: grew / N, sink }));
