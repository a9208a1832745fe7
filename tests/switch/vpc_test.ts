// The switch with the real VPC pipeline (lib/vpc vpcPort): instance↔instance on one sled and
// across two sleds joined by a rack, and a system zone's overlay identity answering an
// off-rack client through boundary services.
import assert from "node:assert/strict";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { memoryPair } from "../../lib/link/memory.ts";
import { type LayerSpec } from "../../lib/packet/build.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { ipv6ToString, macToString } from "../../lib/packet/bytes.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import { frame, GW_MAC, hex, RACK_LL, routedSled, SLED, type Sled, UL } from "./harness.ts";
import { A, B, SLED2, udp4, vm, VNI } from "./vpcsled.ts";

/** Field summary of a Geneve frame. */
function outer(f: Uint8Array) {
  const m = new PacketMeta();
  assert.equal(parseFrame(f, 0, f.length, m), null);
  assert.ok(m.encap);
  return {
    ethSrc: macToString(f, 6),
    ethDst: macToString(f, 0),
    src: ipv6ToString(f, m.outer.l3 + 8),
    dst: ipv6ToString(f, m.outer.l3 + 24),
    vni: m.vni,
    inner: f.slice(m.inner.ether),
  };
}

Deno.test("real VPC: instance↔instance on one sled loops back, exact guest frames", () => {
  const s = routedSled();
  const maps = new Mappings();
  maps.v2p.set(VNI, A.ip, A.mac, SLED);
  maps.v2p.set(VNI, B.ip, B.mac, SLED);
  const ga = vm(s, A, SLED, maps), gb = vm(s, B, SLED, maps);
  ga.inject(frame(udp4(A.mac, GW_MAC, A.ip, B.ip)));
  s.step();
  assert.deepEqual(gb.take().map(hex), [hex(frame(udp4(GW_MAC, B.mac, A.ip, B.ip)))]);
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 0);
  // And back.
  gb.inject(frame(udp4(B.mac, GW_MAC, B.ip, A.ip)));
  s.step();
  assert.deepEqual(ga.take().map(hex), [hex(frame(udp4(GW_MAC, A.mac, B.ip, A.ip)))]);
});

Deno.test("real VPC: instance on sled 1 ↔ instance on sled 2 through the rack", () => {
  const s1 = routedSled(), s2 = routedSled({ cfg: { sledAddress: SLED2 } });
  s2.sw.removeRoute("fd00:2::/64");
  s2.sw.setRoute("fd00:1::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  s2.step();
  s2.rack.forEach((r, i) => {
    r.take();
    r.inject(frame([
      { type: "ethernet", src: UL[i].rackMac, dst: UL[i].mac },
      { type: "ipv6", src: RACK_LL, dst: UL[i].ll, hopLimit: 255 },
      {
        type: "ndp",
        kind: "na",
        target: RACK_LL,
        router: true,
        solicited: true,
        override: true,
        options: [{ type: "targetLinkAddr", mac: UL[i].rackMac }],
      },
    ]));
  });
  s2.step();
  const maps1 = new Mappings(), maps2 = new Mappings();
  for (const m of [maps1, maps2]) {
    m.v2p.set(VNI, A.ip, A.mac, SLED);
    m.v2p.set(VNI, B.ip, B.mac, SLED2);
  }
  const ga = vm(s1, A, SLED, maps1), gb = vm(s2, B, SLED2, maps2);
  /** The rack: takes Geneve off one sled's links, routes it to the other's link `i`. */
  const rack = (from: Sled, to: Sled, i: number) => {
    const fs = from.rack.flatMap((r) => r.take()).filter((f) => f[20] === 17);
    for (const f of fs) {
      const g = f.slice();
      g.set(frame([{ type: "ethernet", src: UL[i].rackMac, dst: UL[i].mac }]).subarray(0, 12));
      g[21]--; // the rack routes: hop limit - 1
      to.rack[i].inject(g);
    }
    return fs;
  };
  ga.inject(frame(udp4(A.mac, GW_MAC, A.ip, B.ip)));
  s1.step();
  const sent = rack(s1, s2, 1);
  assert.equal(sent.length, 1);
  const o = outer(sent[0]);
  assert.deepEqual([o.src, o.dst, o.vni], [SLED, SLED2, VNI]);
  const k = UL.findIndex((u) => u.mac === o.ethSrc);
  assert.deepEqual([o.ethSrc, o.ethDst], [UL[k].mac, UL[k].rackMac]);
  assert.equal(hex(o.inner), hex(frame(udp4(A.mac, B.mac, A.ip, B.ip))));
  s2.step();
  assert.deepEqual(gb.take().map(hex), [hex(frame(udp4(GW_MAC, B.mac, A.ip, B.ip)))]);
  gb.inject(frame(udp4(B.mac, GW_MAC, B.ip, A.ip)));
  s2.step();
  assert.equal(rack(s2, s1, 0).length, 1);
  s1.step();
  assert.deepEqual(ga.take().map(hex), [hex(frame(udp4(GW_MAC, A.mac, B.ip, A.ip)))]);
});

Deno.test("real VPC: a system zone's overlay identity answers an off-rack client via boundary", () => {
  const s = routedSled();
  s.sw.setRoute("fd00:99::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  s.step();
  const maps = new Mappings();
  maps.v2b.set("0.0.0.0/0", [{ ip: "fd00:99::1" }]);
  const Z = { name: "nexus", mac: "a8:40:25:00:01:20", ip: "fd00:1::20", priv: "172.30.2.5" };
  const [mine, zone] = memoryPair({ name: Z.name, clock: () => s.clock.t }, {
    name: "nexus-zone",
    mac: Z.mac,
    clock: () => s.clock.t,
  });
  const pipeline = vpcPort({
    name: Z.name,
    vni: VNI,
    guestMac: Z.mac,
    underlay: SLED,
    v4: {
      privateIp: Z.priv,
      subnet: "172.30.2.0/24",
      external: { ephemeralIp: "203.0.113.20" },
    },
    firewall: firewallRulesFromText([{
      direction: "in",
      priority: 10,
      action: "allow",
      protocol: "tcp",
      ports: "443",
    }]),
    mappings: maps,
    clock: () => s.clock.t,
  });
  s.sw.addPort({
    name: Z.name,
    kind: "system",
    link: mine,
    mac: Z.mac,
    underlay: [Z.ip],
    vni: VNI,
    pipeline,
  });
  const client = "198.51.100.7";
  const tcp = (
    eth: [string, string],
    src: string,
    dst: string,
    sp: number,
    dp: number,
    flags: string,
    ttl = 60,
  ): LayerSpec[] => [
    { type: "ethernet", src: eth[0], dst: eth[1] },
    { type: "ipv4", src, dst, ttl, id: 1 },
    { type: "tcp", srcPort: sp, dstPort: dp, flags, seq: 100, ack: flags === "S" ? 0 : 1 },
  ];
  // The client's SYN arrives from boundary services, Geneve with the zone's VNI.
  s.rack[0].inject(frame([
    { type: "ethernet", src: UL[0].rackMac, dst: UL[0].mac },
    { type: "ipv6", src: "fd00:99::1", dst: SLED, hopLimit: 60 },
    { type: "udp", srcPort: 51000, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni: VNI },
    ...tcp(["a8:40:25:77:77:77", Z.mac], client, "203.0.113.20", 40000, 443, "S"),
  ]));
  s.step();
  assert.deepEqual(zone.take().map(hex), [
    hex(frame(tcp([GW_MAC, Z.mac], client, Z.priv, 40000, 443, "S"))),
  ]);
  // The zone answers; its underlay traffic meanwhile stays pass-through.
  zone.inject(frame(tcp([Z.mac, GW_MAC], Z.priv, client, 443, 40000, "SA", 64)));
  s.step();
  const out = s.rack.flatMap((r) => r.take()).filter((f) => f[20] === 17);
  assert.equal(out.length, 1, JSON.stringify(s.sw.counters.toJSON()));
  const o = outer(out[0]);
  assert.deepEqual([o.src, o.dst, o.vni], [SLED, "fd00:99::1", 99]);
  assert.equal(
    hex(o.inner),
    hex(frame(tcp([Z.mac, "a8:40:25:77:77:77"], "203.0.113.20", client, 443, 40000, "SA", 64))),
  );
});
