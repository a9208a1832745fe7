import assert from "node:assert/strict";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import * as fc from "fast-check";
import { emitDhcp } from "../../lib/packet/dhcp.ts";
import { duidLl, emitDhcpv6 } from "../../lib/packet/dhcpv6.ts";
import { HEADROOM } from "../../lib/link/link.ts";
import { DIR_IN, DIR_OUT, loadPacket, Packet } from "../../lib/engine/packet.ts";
import { mac } from "./frames.ts";
import { buildFrame, geneveFrame, GW_MAC, Scenario, SLED1, SLED2 } from "./harness.ts";

const G = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };

Deno.test("mutated frames through a VPC port never throw; every outcome is a result code", () => {
  const s = new Scenario();
  s.mappings.v2p.set(10, "172.30.0.11", "a8:40:25:fa:00:0b", SLED2);
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: "fd00:99::1" }]);
  const port = s.port({
    name: "g",
    vni: 10,
    guestMac: G.mac,
    underlay: SLED1,
    v4: {
      privateIp: G.ip,
      subnet: "172.30.0.0/22",
      external: { snat: { ip: "203.0.113.9", ports: "1024-1030" } },
    },
    v6: { privateIp: "fd00:a::10", subnet: "fd00:a::/64" },
    firewall: firewallRulesFromText([{ direction: "in", priority: 1, action: "allow" }]),
  });
  const seeds: [number, Uint8Array][] = [
    [
      DIR_OUT,
      buildFrame([{ type: "ethernet", src: G.mac, dst: GW_MAC }, {
        type: "ipv4",
        src: G.ip,
        dst: "172.30.0.11",
      }, { type: "tcp", srcPort: 1, dstPort: 2, flags: "S" }]),
    ],
    [
      DIR_OUT,
      buildFrame([{ type: "ethernet", src: G.mac, dst: GW_MAC }, {
        type: "ipv4",
        src: G.ip,
        dst: "8.8.8.8",
      }, { type: "udp", srcPort: 1, dstPort: 2 }]),
    ],
    [
      DIR_OUT,
      buildFrame([
        { type: "ethernet", src: G.mac, dst: "ff:ff:ff:ff:ff:ff" },
        { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
        { type: "udp", srcPort: 68, dstPort: 67 },
        { type: "payload", data: emitDhcp({ op: 1, xid: 1, chaddr: mac(G.mac), messageType: 1 }) },
      ]),
    ],
    [
      DIR_OUT,
      buildFrame([{ type: "ethernet", src: G.mac, dst: "33:33:ff:ff:77:77" }, {
        type: "ipv6",
        src: "fe80::1",
        dst: "ff02::1:ffff:7777",
        hopLimit: 255,
      }, { type: "ndp", kind: "ns", target: "fe80::aa40:25ff:feff:7777" }]),
    ],
    [
      DIR_OUT,
      buildFrame([
        { type: "ethernet", src: G.mac, dst: GW_MAC },
        { type: "ipv4", src: G.ip, dst: "8.8.8.8" },
        { type: "icmpv4", kind: "destUnreachable", code: 3 },
        { type: "ipv4", src: "8.8.8.8", dst: G.ip },
        { type: "udp", srcPort: 9, dstPort: 9 },
      ]),
    ],
    [
      DIR_IN,
      geneveFrame(SLED2, SLED1, 10, [{ type: "ethernet", src: "a8:40:25:fa:00:0b", dst: G.mac }, {
        type: "ipv4",
        src: "172.30.0.11",
        dst: G.ip,
      }, { type: "tcp", srcPort: 2, dstPort: 1, flags: "SA" }]),
    ],
    [
      DIR_IN,
      geneveFrame("fd00:99::1", SLED1, 10, [
        { type: "ethernet", src: "a8:40:25:77:77:77", dst: G.mac },
        { type: "ipv4", src: "1.2.3.4", dst: "203.0.113.9" },
        { type: "icmpv4", kind: "timeExceeded" },
        { type: "ipv4", src: "203.0.113.9", dst: "8.8.8.8" },
        { type: "udp", srcPort: 1024, dstPort: 2 },
      ]),
    ],
  ];
  const v6 = (l4: Parameters<typeof buildFrame>[0]) =>
    buildFrame([
      { type: "ethernet", src: G.mac, dst: "33:33:00:01:00:02" },
      { type: "ipv6", src: "fe80::aa40:25ff:fefa:a", dst: "ff02::1:2", hopLimit: 255 },
      ...l4,
    ]);
  seeds.push(
    [
      DIR_OUT,
      v6([{ type: "udp", srcPort: 546, dstPort: 547 }, {
        type: "payload",
        data: emitDhcpv6({
          msgType: 1,
          transactionId: 7,
          clientId: duidLl(mac(G.mac)),
          rapidCommit: true,
          oro: [23, 24],
          iaNa: [{ iaid: 1, t1: 0, t2: 0, addresses: [] }],
        }),
      }]),
    ],
    [DIR_OUT, v6([{ type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: G.mac }] }])],
    [
      DIR_OUT,
      buildFrame([{ type: "ethernet", src: G.mac, dst: "ff:ff:ff:ff:ff:ff" }, {
        type: "arp",
        op: "request",
        senderMac: G.mac,
        senderIp: G.ip,
        targetIp: "172.30.0.1",
      }]),
    ],
  );
  const pkt = new Packet(), buf = new Uint8Array(HEADROOM + 2048);
  let processed = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat(),
      (which, edits, cut) => {
        const [dir, seed] = seeds[which];
        const f = seed.slice(0, Math.max(14, seed.length - (cut % 8)));
        for (const [at, v] of edits) f[at % f.length] = v;
        buf.set(f, HEADROOM);
        if (loadPacket(pkt, buf, HEADROOM, f.length) !== null) return;
        const code = port.process(dir as 0 | 1, pkt);
        assert.ok(code >= 0 && code <= 3);
        processed++;
      },
    ),
    { numRuns: 20000 },
  );
  assert.ok(processed > 3000, `only ${processed} mutated frames parsed`);
  // The engine turns a throwing action into RES_ERROR; none of the VPC's actions may throw.
  assert.equal(port.port.lastThrown, null, String(port.port.lastThrown));
});
