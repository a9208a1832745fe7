import assert from "node:assert/strict";
import { memoryPair } from "../../lib/link/memory.ts";
import { type LayerSpec } from "../../lib/packet/build.ts";
import { expectedFlowHash, expectedFlowLabel, expectedGeneveSrcPort } from "../flow_hash.ts";
import {
  frame,
  GW_MAC,
  hex,
  RACK_LL,
  routedSled,
  SLED,
  type Sled,
  udp6,
  UL,
  ZA,
} from "./harness.ts";
import { BOUNDARY_MAC, GW_IP4, miniVpc, type V2p } from "./minivpc.ts";

const VNI = 10;
const A = { name: "inst-a", mac: "a8:40:25:fa:00:05", ip: "172.30.0.5" };
const B = { name: "inst-b", mac: "a8:40:25:fa:00:06", ip: "172.30.0.6" };
const C = { name: "inst-c", mac: "a8:40:25:fa:00:07", ip: "172.30.0.7", sled: "fd00:2::1" };

/** Adds an instance port with the mini pipeline; returns the guest's end of its link. */
function instance(s: Sled, g: typeof A, v2p: Map<string, V2p>, mtu = 1500) {
  const [mine, far] = memoryPair(
    { name: g.name, mtu, clock: () => s.clock.t },
    { name: `${g.name}-guest`, mac: g.mac, mtu, clock: () => s.clock.t },
  );
  const pipeline = miniVpc({
    name: g.name,
    mac: g.mac,
    vni: VNI,
    sled: SLED,
    v2p,
    clock: () => s.clock.t,
  });
  s.sw.addPort({ name: g.name, kind: "instance", link: mine, mac: g.mac, vni: VNI, pipeline, mtu });
  return far;
}

function v2pAll(): Map<string, V2p> {
  return new Map([
    [A.ip, { mac: A.mac, sled: SLED }],
    [B.ip, { mac: B.mac, sled: SLED }],
    [C.ip, { mac: C.mac, sled: C.sled }],
  ]);
}

/** Guest IPv4/UDP layers. */
function guestUdp(srcMac: string, dstMac: string, src: string, dst: string, sport = 5000) {
  return [
    { type: "ethernet", src: srcMac, dst: dstMac },
    { type: "ipv4", src, dst, ttl: 64, id: 1 },
    { type: "udp", srcPort: sport, dstPort: 53 },
    { type: "payload", data: "hello overlay" },
  ] as LayerSpec[];
}

function flowHash(src: string, dst: string, sport: number, dport: number): number {
  return expectedFlowHash(17, src, dst, sport, dport);
}

/** The Geneve frame on underlay link `i` carrying `inner` from this sled to `to`. */
function geneveOnWire(i: number, to: string, vni: number, hash: number, inner: LayerSpec[]) {
  return frame([
    { type: "ethernet", src: UL[i].mac, dst: UL[i].rackMac },
    { type: "ipv6", src: SLED, dst: to, hopLimit: 255, flowLabel: expectedFlowLabel(hash) },
    { type: "udp", srcPort: expectedGeneveSrcPort(hash), dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni },
    ...inner,
  ]);
}

Deno.test("instance↔instance on one sled loops back through both pipelines, no link touched", () => {
  const s = routedSled();
  const ga = instance(s, A, v2pAll()), gb = instance(s, B, v2pAll());
  ga.inject(frame(guestUdp(A.mac, GW_MAC, A.ip, B.ip)));
  s.step();
  assert.deepEqual(gb.take().map(hex), [hex(frame(guestUdp(A.mac, B.mac, A.ip, B.ip)))]);
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 0);
  assert.equal(s.sw.counters.toJSON().events["overlay-loopback"], 1);
  assert.equal(s.sw.counters.toJSON().events["overlay-in"], 1);
});

Deno.test("instance → other sled: Geneve out an underlay link; the reply is decapsulated in", () => {
  const s = routedSled();
  const ga = instance(s, A, v2pAll());
  ga.inject(frame(guestUdp(A.mac, GW_MAC, A.ip, C.ip, 5555)));
  s.step();
  const h = flowHash(A.ip, C.ip, 5555, 53);
  const inner = guestUdp(A.mac, C.mac, A.ip, C.ip, 5555);
  const got = s.rack.map((r) => r.take().map(hex));
  const i = got[0].length ? 0 : 1;
  assert.deepEqual(got[i], [hex(geneveOnWire(i, C.sled, VNI, h, inner))]);
  assert.deepEqual(got[1 - i], []);
  // The reply from sled 2 arrives on the other link: decapsulated for inst-a.
  const back = guestUdp(C.mac, A.mac, C.ip, A.ip, 53);
  s.rack[1].inject(frame([
    { type: "ethernet", src: UL[1].rackMac, dst: UL[1].mac },
    { type: "ipv6", src: C.sled, dst: SLED, hopLimit: 62 },
    { type: "udp", srcPort: 50000, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni: VNI },
    ...back,
  ]));
  s.step();
  assert.deepEqual(ga.take().map(hex), [hex(frame(back))]);
});

Deno.test("Geneve for no local (VNI, MAC), or the wrong VNI, is dropped and counted", () => {
  const s = routedSled();
  const ga = instance(s, A, v2pAll());
  for (const [vni, mac] of [[VNI, "a8:40:25:fa:00:99"], [11, A.mac]] as const) {
    s.rack[0].inject(frame([
      { type: "ethernet", src: UL[0].rackMac, dst: UL[0].mac },
      { type: "ipv6", src: C.sled, dst: SLED },
      { type: "udp", srcPort: 50000, dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni },
      ...guestUdp(C.mac, mac, C.ip, A.ip),
    ]));
  }
  s.step();
  assert.deepEqual(ga.take(), []);
  assert.equal(s.sw.counters.drop("no-overlay-port"), 2);
});

Deno.test("instance ARP for its gateway is hairpinned by the pipeline; drops keep reasons", () => {
  const s = routedSled();
  const ga = instance(s, A, new Map());
  ga.inject(frame([
    { type: "ethernet", src: A.mac, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "arp", senderMac: A.mac, senderIp: A.ip, targetIp: GW_IP4 },
  ]));
  ga.inject(frame(guestUdp(A.mac, GW_MAC, A.ip, "172.30.0.77")));
  s.step();
  assert.deepEqual(ga.take().map(hex), [hex(frame([
    { type: "ethernet", src: GW_MAC, dst: A.mac },
    {
      type: "arp",
      op: "reply",
      senderMac: GW_MAC,
      senderIp: GW_IP4,
      targetMac: A.mac,
      targetIp: A.ip,
    },
  ]))]);
  assert.equal(s.sw.counters.drop("vpc"), 1);
  assert.deepEqual([...s.sw.ov.reasons.keys()], ["overlay: no v2p"]);
});

Deno.test("system zone overlay identity: off-underlay traffic to boundary services and back", () => {
  const s = routedSled();
  s.sw.setRoute("fd00:99::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  s.step();
  const ZN = { name: "nexus", mac: "a8:40:25:00:01:20", ip: "fd00:1::20" };
  const [mine, far] = memoryPair({ name: ZN.name, clock: () => s.clock.t }, {
    name: "nexus-zone",
    mac: ZN.mac,
    clock: () => s.clock.t,
  });
  const pipeline = miniVpc({
    name: ZN.name,
    mac: ZN.mac,
    vni: 99,
    sled: SLED,
    v2p: new Map(),
    boundary: { ip: "fd00:99::1", vni: 99 },
    clock: () => s.clock.t,
  });
  s.sw.addPort({
    name: ZN.name,
    kind: "system",
    link: mine,
    mac: ZN.mac,
    underlay: [ZN.ip],
    vni: 99,
    pipeline,
  });
  const client = "2001:db8::42";
  // Underlay traffic stays pass-through even with an overlay identity.
  far.inject(udp6(ZN.mac, GW_MAC, ZN.ip, ZA.ip));
  // An off-rack client is answered through boundary services (Geneve VNI 99).
  const reply = [
    { type: "ethernet", src: ZN.mac, dst: GW_MAC },
    { type: "ipv6", src: ZN.ip, dst: client, hopLimit: 64 },
    { type: "tcp", srcPort: 443, dstPort: 40000, flags: "SA", seq: 1, ack: 2 },
  ] as LayerSpec[];
  far.inject(frame(reply));
  s.step();
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [
    hex(udp6(GW_MAC, ZA.mac, ZN.ip, ZA.ip, { hop: 63 })),
  ]);
  const h = expectedFlowHash(6, ZN.ip, client, 443, 40000);
  const inner = [{ ...reply[0], dst: BOUNDARY_MAC }, reply[1], reply[2]] as LayerSpec[];
  const got = s.rack.map((r) => r.take().filter((f) => f[20] === 17).map(hex));
  const i = got[0].length ? 0 : 1;
  assert.deepEqual(got[i], [hex(geneveOnWire(i, "fd00:99::1", 99, h, inner))]);
  // The client's next segment comes back from boundary services.
  const fromClient = [
    { type: "ethernet", src: BOUNDARY_MAC, dst: ZN.mac },
    { type: "ipv6", src: client, dst: ZN.ip, hopLimit: 60 },
    { type: "tcp", srcPort: 40000, dstPort: 443, flags: "A", seq: 2, ack: 2 },
  ] as LayerSpec[];
  s.rack[0].inject(frame([
    { type: "ethernet", src: UL[0].rackMac, dst: UL[0].mac },
    { type: "ipv6", src: "fd00:99::1", dst: SLED },
    { type: "udp", srcPort: 50001, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni: 99 },
    ...fromClient,
  ]));
  s.step();
  assert.deepEqual(far.take().map(hex), [hex(frame(fromClient))]);
});

Deno.test("overlay packets too big for the underlay: frag-needed (IPv4 DF) and PTB (IPv6)", () => {
  const s = routedSled({ ulMtu: 1500 });
  const ga = instance(s, A, v2pAll(), 9000);
  const big4 = frame([
    { type: "ethernet", src: A.mac, dst: GW_MAC },
    { type: "ipv4", src: A.ip, dst: C.ip, ttl: 64, id: 7, df: true },
    { type: "udp", srcPort: 1, dstPort: 2 },
    { type: "payload", data: new Uint8Array(1500) },
  ]);
  ga.inject(big4);
  ga.inject(frame([
    { type: "ethernet", src: A.mac, dst: GW_MAC },
    { type: "ipv4", src: A.ip, dst: C.ip, ttl: 64, id: 8 },
    { type: "udp", srcPort: 1, dstPort: 2 },
    { type: "payload", data: new Uint8Array(1500) },
  ]));
  const big6 = frame([
    { type: "ethernet", src: A.mac, dst: GW_MAC },
    { type: "ipv6", src: "fd77::5", dst: "fd77::7" },
    { type: "udp", srcPort: 1, dstPort: 2 },
    { type: "payload", data: new Uint8Array(1500) },
  ]);
  ga.inject(big6);
  s.step();
  const limit = 1500 - 78;
  assert.deepEqual(ga.take().map(hex), [
    hex(frame([
      { type: "ethernet", src: GW_MAC, dst: A.mac },
      { type: "ipv4", src: C.ip, dst: A.ip, ttl: 64, id: 0 },
      { type: "icmpv4", kind: "destUnreachable", code: 4, mtu: limit },
      { type: "payload", data: big4.slice(14, 14 + 28) },
    ])),
    hex(frame([
      { type: "ethernet", src: GW_MAC, dst: A.mac },
      { type: "ipv6", src: "fe80::aa40:25ff:feff:7777", dst: "fd77::5", hopLimit: 64 },
      { type: "icmpv6", kind: "packetTooBig", mtu: limit },
      { type: "payload", data: big6.slice(14, 14 + 1232) },
    ])),
  ]);
  assert.equal(s.sw.counters.drop("too-big"), 3);
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 0);
});
