// Every kind of frame the switch writes itself, checked by tshark (checksums on, no expert
// warnings, a few fields read back): RA, NA (proxy, underlay, DAD reply), NS (multicast and
// unicast probe), PTB, time exceeded, frag-needed, and a multicast Geneve copy.
import assert from "node:assert/strict";
import { assertTsharkClean, tsharkFields, tsharkStep } from "../vpc/tshark.ts";
import { frame, GW_MAC, REMOTE, routedSled, type Sled, sled, udp6, UL, ZA, ZB } from "./harness.ts";
import { miniVpc } from "./minivpc.ts";
import { memoryPair } from "../../lib/link/memory.ts";

function collect(s: Sled): Uint8Array[] {
  return [...Object.values(s.zones), ...s.rack].flatMap((l) => l.take());
}

Deno.test("tshark dissects every frame the switch generates without a warning", async (t) => {
  const out: Uint8Array[] = [];
  // NDP towards a zone: RA, proxy NA, NA to a DAD probe's all-nodes.
  const s = sled({ portMtu: 9000, ulMtu: 1500 });
  const za = s.zones[ZA.name];
  za.inject(frame([
    { type: "ethernet", src: ZA.mac, dst: "33:33:00:00:00:02" },
    { type: "ipv6", src: "fe80::1", dst: "ff02::2", hopLimit: 255 },
    { type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: ZA.mac }] },
  ]));
  za.inject(frame([
    { type: "ethernet", src: ZA.mac, dst: "33:33:ff:00:00:11" },
    { type: "ipv6", src: ZA.ip, dst: "ff02::1:ff00:11", hopLimit: 255 },
    { type: "ndp", kind: "ns", target: ZB.ip, options: [{ type: "sourceLinkAddr", mac: ZA.mac }] },
  ]));
  s.rack[0].inject(frame([
    { type: "ethernet", src: UL[0].rackMac, dst: "33:33:ff:00:00:10" },
    { type: "ipv6", src: "::", dst: "ff02::1:ff00:10", hopLimit: 255 },
    { type: "ndp", kind: "ns", target: ZA.ip },
  ]));
  za.inject(frame([
    { type: "ethernet", src: ZA.mac, dst: GW_MAC },
    { type: "ipv6", src: "fe80::1", dst: "fe80::aa40:25ff:feff:7777" },
    { type: "icmpv6", kind: "echoRequest", id: 9, seq: 1 },
    { type: "payload", data: "are you there" },
  ]));
  // Multicast NS for next hops, then (once answered) unicast probes.
  s.sw.setRoute("fd00:2::/64", [{ link: "ul0", via: "fe80::ff" }]);
  s.step();
  out.push(...collect(s));
  s.rack[0].inject(frame([
    { type: "ethernet", src: UL[0].rackMac, dst: UL[0].mac },
    { type: "ipv6", src: "fe80::ff", dst: UL[0].ll, hopLimit: 255 },
    {
      type: "ndp",
      kind: "na",
      target: "fe80::ff",
      router: true,
      solicited: true,
      override: true,
      options: [{ type: "targetLinkAddr", mac: UL[0].rackMac }],
    },
  ]));
  s.step();
  s.step(300);
  // PTB and time exceeded back to a zone.
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { size: 2000 }));
  za.inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { hop: 1 }));
  s.step();
  out.push(...collect(s));
  // Frag-needed to an instance, and a multicast Geneve copy.
  const r = routedSled({ ulMtu: 1500, portMtu: 9000 });
  const [mine, guest] = memoryPair({ name: "vm", mtu: 9000 }, { name: "vm-g", mtu: 9000 });
  r.sw.addPort({
    name: "vm",
    kind: "instance",
    link: mine,
    mac: "a8:40:25:fa:00:05",
    vni: 10,
    mtu: 9000,
    pipeline: miniVpc({
      name: "vm",
      mac: "a8:40:25:fa:00:05",
      vni: 10,
      sled: "fd00:1::1",
      v2p: new Map(),
    }),
  });
  guest.inject(frame([
    { type: "ethernet", src: "a8:40:25:fa:00:05", dst: GW_MAC },
    { type: "ipv4", src: "172.30.0.5", dst: "172.30.0.9", df: true },
    { type: "udp", srcPort: 1, dstPort: 2 },
    { type: "payload", data: new Uint8Array(3000) },
  ]));
  r.sw.setM2p("ff0e::77", "ff04::77");
  r.sw.setMcastForwarding("ff04::77", [{ via: "fd00:2::1", replication: "both" }]);
  r.zones[ZA.name].inject(frame([
    { type: "ethernet", src: ZA.mac, dst: "33:33:00:00:00:77" },
    { type: "ipv6", src: ZA.ip, dst: "ff0e::77" },
    { type: "udp", srcPort: 5, dstPort: 6 },
    { type: "payload", data: "group" },
  ]));
  r.step();
  out.push(...guest.take(), ...r.rack.flatMap((l) => l.take()));

  // RA, NA×2, NS(multicast), NS(unicast), PTB, time exceeded, frag-needed, Geneve.
  const types = out.map((f) =>
    f[12] === 0x86 ? (f[20] === 58 ? f[54] : f[20]) : f[23] === 1 ? f[34] : -1
  );
  for (const t of [129, 134, 136, 135, 2, 3, 17]) {
    assert.ok(types.includes(t), `missing ${t} in ${types}`);
  }
  assert.ok(out.some((f) => f[12] === 0x08 && f[34] === 3 && f[35] === 4), "no frag-needed");
  await assertTsharkClean(t, out, "switch-generated frames");
  await tsharkStep(t, "switch-generated fields", async () => {
    const rows = await tsharkFields(out, [
      "icmpv6.type",
      "icmpv6.opt.mtu",
      "icmpv6.mtu",
      "icmp.mtu",
      "geneve.vni",
      "icmpv6.nd.na.flag.s",
    ]);
    const joined = rows.map((r) => r.join(",")).join(" ");
    assert.match(joined, /^134,9000,,,, /, "RA with the port's MTU 9000");
    assert.match(joined, / 136,,,,,1 /, "solicited NA");
    assert.match(joined, / 129,,,,, /, "echo reply");
    assert.match(joined, / 136,,,,,0 /, "unsolicited NA to all nodes (DAD)");
    assert.match(joined, / 2,,1500,,, /, "PTB with the link MTU 1500");
    assert.match(joined, / ,,,1422,, /, "frag-needed with next-hop MTU 1500 - 78");
    assert.match(joined, / ,,,,0x0*4d,?$/, "Geneve VNI 77");
  });
});
