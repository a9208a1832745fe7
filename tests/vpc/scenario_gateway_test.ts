import assert from "node:assert/strict";
import type { LayerSpec } from "../../lib/packet/build.ts";
import { emitDhcp, parseDhcp } from "../../lib/packet/dhcp.ts";
import { dhcpReprParse } from "../../lib/packet/dhcp_decode.ts";
import { dhcpv6ReprParse, duidLl, emitDhcpv6, parseDhcpv6 } from "../../lib/packet/dhcpv6.ts";
import { isParseError } from "../../lib/packet/error.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { cat, hex, ip4, ip6, mac } from "./frames.ts";
import {
  assertDropped,
  assertHairpin,
  assertPassed,
  buildFrame,
  GW_MAC,
  Scenario,
  SLED1,
} from "./harness.ts";
import { tsharkFields, tsharkStep } from "./tshark.ts";

const G = {
  mac: "a8:40:25:fa:00:0a",
  ip: "172.30.0.10",
  ip6: "fd00:a::10",
  ll: "fe80::aa40:25ff:fefa:a",
};
const GW_LL = "fe80::aa40:25ff:feff:7777";

function guest(s: Scenario) {
  s.mappings.v2p.set(10, "172.30.0.11", "a8:40:25:fa:00:0b", "fd00:2::1");
  return s.port({
    name: "g",
    vni: 10,
    guestMac: G.mac,
    underlay: SLED1,
    v4: { privateIp: G.ip, subnet: "172.30.0.0/22" },
    v6: { privateIp: G.ip6, subnet: "fd00:a::/64" },
    dhcp: {
      dns4: ["172.30.0.1"],
      dns6: ["fd00:a::1"],
      hostname: "g1",
      domain: "example.internal",
      search: ["example.internal"],
      leaseTime: 3600,
    },
  });
}

function metaOf(f: Uint8Array) {
  const m = new PacketMeta();
  assert.equal(parseFrame(f, 0, f.length, m), null);
  return m.outer;
}

Deno.test("guest pings the gateway (v4 and v6 link-local) and ARPs for it", async (t) => {
  const s = new Scenario();
  const g = guest(s);
  const ping: LayerSpec[] = [
    { type: "ethernet", src: G.mac, dst: GW_MAC },
    { type: "ipv4", src: G.ip, dst: "172.30.0.1", id: 3 },
    { type: "icmpv4", kind: "echoRequest", id: 9, seq: 1 },
    { type: "payload", data: "0123456789abcdef" },
  ];
  const r = assertHairpin(s.send(g, "out", buildFrame(ping)));
  assert.deepEqual(
    r,
    buildFrame([
      { type: "ethernet", src: GW_MAC, dst: G.mac },
      { type: "ipv4", src: "172.30.0.1", dst: G.ip, ttl: 64 },
      { type: "icmpv4", kind: "echoReply", id: 9, seq: 1 },
      { type: "payload", data: "0123456789abcdef" },
    ]),
  );
  for (const src of [G.ll, G.ip6]) {
    const p6 = buildFrame([
      { type: "ethernet", src: G.mac, dst: GW_MAC },
      { type: "ipv6", src, dst: GW_LL },
      { type: "icmpv6", kind: "echoRequest", id: 5, seq: 2 },
      { type: "payload", data: "ping6" },
    ]);
    assert.deepEqual(
      assertHairpin(s.send(g, "out", p6)),
      buildFrame([
        { type: "ethernet", src: GW_MAC, dst: G.mac },
        { type: "ipv6", src: GW_LL, dst: src, hopLimit: 64 },
        { type: "icmpv6", kind: "echoReply", id: 5, seq: 2 },
        { type: "payload", data: "ping6" },
      ]),
    );
  }
  const arp = buildFrame([
    { type: "ethernet", src: G.mac, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "arp", op: "request", senderMac: G.mac, senderIp: G.ip, targetIp: "172.30.0.1" },
  ]);
  assert.deepEqual(
    assertHairpin(s.send(g, "out", arp)),
    buildFrame([
      { type: "ethernet", src: GW_MAC, dst: G.mac },
      {
        type: "arp",
        op: "reply",
        senderMac: GW_MAC,
        senderIp: "172.30.0.1",
        targetMac: G.mac,
        targetIp: G.ip,
      },
    ]),
  );
  // ARP for anybody else is not answered (the gateway is the only neighbour).
  const other = buildFrame([
    { type: "ethernet", src: G.mac, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "arp", op: "request", senderMac: G.mac, senderIp: G.ip, targetIp: "172.30.0.11" },
  ]);
  assertDropped(s.send(g, "out", other), "not for the gateway");
  await s.tshark(t, "gateway ping/arp");
});

Deno.test("DHCPv4 full exchange: Discover → Offer, Request → Ack, then the address works", async (t) => {
  const s = new Scenario();
  const g = guest(s);
  const dhcp = (type: number, extra: object) =>
    buildFrame([
      { type: "ethernet", src: G.mac, dst: "ff:ff:ff:ff:ff:ff" },
      { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
      { type: "udp", srcPort: 68, dstPort: 67 },
      {
        type: "payload",
        data: emitDhcp({ op: 1, xid: 0x1234, chaddr: mac(G.mac), messageType: type, ...extra }),
      },
    ]);
  const offer = assertHairpin(
    s.send(g, "out", dhcp(1, { parameterRequestList: [1, 3, 6, 15, 119, 121] })),
  );
  const m = metaOf(offer);
  const o = dhcpReprParse(parseDhcp(offer, m.payload, m.ipEnd) as never);
  assert.ok(!isParseError(o));
  assert.equal(o.messageType, 2);
  assert.deepEqual(o.yiaddr, ip4(G.ip));
  const ack = assertHairpin(
    s.send(g, "out", dhcp(3, { requestedIp: ip4(G.ip), serverId: ip4("172.30.0.1") })),
  );
  const ma = metaOf(ack);
  const a = dhcpReprParse(parseDhcp(ack, ma.payload, ma.ipEnd) as never);
  assert.ok(!isParseError(a));
  assert.equal(a.messageType, 5);
  assert.equal(a.xid, 0x1234);
  assert.deepEqual(a.yiaddr, ip4(G.ip));
  assert.deepEqual(a.routers, [ip4("172.30.0.1")]);
  assert.deepEqual(a.dnsServers, [ip4("172.30.0.1")]);
  assert.equal(a.hostname, "g1");
  assert.equal(a.domainName, "example.internal");
  assert.deepEqual(a.domainSearch, ["example.internal"]);
  assert.equal(a.leaseTime, 3600);
  assert.equal(a.classlessRoutes?.length, 2);
  // Unicast Ack: Ethernet/IP straight to the guest, UDP 67 → 68.
  assert.deepEqual(ack.subarray(0, 14), cat(mac(G.mac), mac(GW_MAC), hex("0800")));
  assert.deepEqual(ack.subarray(26, 38), cat(ip4("172.30.0.1"), ip4(G.ip), hex("0043 0044")));
  // With the lease the guest talks to its VPC.
  const udp = buildFrame([
    { type: "ethernet", src: G.mac, dst: GW_MAC },
    { type: "ipv4", src: G.ip, dst: "172.30.0.11" },
    { type: "udp", srcPort: 4000, dstPort: 4001 },
  ]);
  assertPassed(s.send(g, "out", udp));
  await s.tshark(t, "dhcpv4");
  await tsharkStep(t, "DHCP fields", async () => {
    const rows = await tsharkFields([offer, ack], ["dhcp.option.dhcp", "dhcp.option.hostname"]);
    assert.deepEqual(rows, [["2", "g1"], ["5", "g1"]]);
  });
});

Deno.test("DHCPv6 with rapid commit: Solicit → Reply carrying the address", async (t) => {
  const s = new Scenario();
  const g = guest(s);
  const solicit = buildFrame([
    { type: "ethernet", src: G.mac, dst: "33:33:00:01:00:02" },
    { type: "ipv6", src: G.ll, dst: "ff02::1:2", hopLimit: 1 },
    { type: "udp", srcPort: 546, dstPort: 547 },
    {
      type: "payload",
      data: emitDhcpv6({
        msgType: 1,
        transactionId: 0x00beef,
        clientId: duidLl(mac(G.mac)),
        rapidCommit: true,
        elapsedTime: 0,
        oro: [23, 24],
        iaNa: [{ iaid: 1, t1: 0, t2: 0, addresses: [] }],
      }),
    },
  ]);
  const reply = assertHairpin(s.send(g, "out", solicit));
  const m = metaOf(reply);
  const r = dhcpv6ReprParse(parseDhcpv6(reply, m.payload, m.ipEnd) as never);
  assert.ok(!isParseError(r));
  assert.equal(r.msgType, 7);
  assert.equal(r.transactionId, 0x00beef);
  assert.equal(r.rapidCommit, true);
  assert.deepEqual(r.serverId, duidLl(mac(GW_MAC)));
  assert.deepEqual(r.iaNa?.[0].addresses.map((x) => x.addr), [ip6(G.ip6)]);
  assert.deepEqual(r.dnsServers, [ip6("fd00:a::1")]);
  // Upstream: the search list alone (the host domain goes into the FQDN option, not here).
  assert.deepEqual(r.domainList, ["example.internal"]);
  assert.deepEqual(reply.subarray(22, 54), cat(ip6(GW_LL), ip6(G.ll)));
  await s.tshark(t, "dhcpv6");
});

Deno.test("RS → RA; NS for the gateway → NA; DAD and other NS unanswered; other NDP dropped", async (t) => {
  const s = new Scenario();
  const g = guest(s);
  const rs = buildFrame([
    { type: "ethernet", src: G.mac, dst: "33:33:00:00:00:02" },
    { type: "ipv6", src: G.ll, dst: "ff02::2", hopLimit: 255 },
    { type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: G.mac }] },
  ]);
  assert.deepEqual(
    assertHairpin(s.send(g, "out", rs)),
    buildFrame([
      { type: "ethernet", src: GW_MAC, dst: G.mac },
      { type: "ipv6", src: GW_LL, dst: G.ll, hopLimit: 255 },
      {
        type: "ndp",
        kind: "ra",
        curHopLimit: 255,
        managed: true,
        routerLifetime: 9000,
        options: [{ type: "sourceLinkAddr", mac: GW_MAC }, { type: "mtu", mtu: 1500 }],
      },
    ]),
  );
  const ns = (src: string, dst: string, dmac: string, target: string, sll = true) =>
    buildFrame([
      { type: "ethernet", src: G.mac, dst: dmac },
      { type: "ipv6", src, dst, hopLimit: 255 },
      {
        type: "ndp",
        kind: "ns",
        target,
        options: sll ? [{ type: "sourceLinkAddr", mac: G.mac }] : [],
      },
    ]);
  const na = assertHairpin(
    s.send(g, "out", ns(G.ll, "ff02::1:ffff:7777", "33:33:ff:ff:77:77", GW_LL)),
  );
  assert.deepEqual(
    na,
    buildFrame([
      { type: "ethernet", src: GW_MAC, dst: G.mac },
      { type: "ipv6", src: GW_LL, dst: G.ll, hopLimit: 255 },
      {
        type: "ndp",
        kind: "na",
        target: GW_LL,
        router: true,
        solicited: true,
        override: true,
        options: [{ type: "targetLinkAddr", mac: GW_MAC }],
      },
    ]),
  );
  // DAD for the guest's own address: left alone (no answer, not forwarded).
  assertDropped(s.send(g, "out", ns("::", "ff02::1:ff00:10", "33:33:ff:00:00:10", G.ip6, false)));
  // NS for another address: no answer.
  assertDropped(s.send(g, "out", ns(G.ll, "ff02::1:ff00:11", "33:33:ff:00:00:11", "fd00:a::11")));
  // Unsolicited NA and redirects from the guest are filtered.
  const una = buildFrame([
    { type: "ethernet", src: G.mac, dst: "33:33:00:00:00:01" },
    { type: "ipv6", src: G.ll, dst: "ff02::1", hopLimit: 255 },
    { type: "ndp", kind: "na", target: G.ll, override: true },
  ]);
  assertDropped(s.send(g, "out", una), "ndp filtered");
  await s.tshark(t, "ndp");
});

Deno.test("anti-spoof: wrong source MAC or IP dropped outbound; inbound only to the guest", async (t) => {
  const s = new Scenario();
  const g = guest(s);
  const udp = (smac: string, src: string) =>
    buildFrame([
      { type: "ethernet", src: smac, dst: GW_MAC },
      { type: "ipv4", src, dst: "172.30.0.11" },
      { type: "udp", srcPort: 4000, dstPort: 4001 },
    ]);
  assertPassed(s.send(g, "out", udp(G.mac, G.ip)));
  assertDropped(s.send(g, "out", udp("a8:40:25:fa:00:99", G.ip)), "anti-spoof");
  assertDropped(s.send(g, "out", udp(G.mac, "172.30.0.99")), "anti-spoof");
  assertDropped(
    s.send(
      g,
      "out",
      buildFrame([
        { type: "ethernet", src: G.mac, dst: GW_MAC },
        { type: "ipv6", src: "fd00:a::99", dst: "fd00:a::11" },
        { type: "udp", srcPort: 4000, dstPort: 4001 },
      ]),
    ),
    "anti-spoof",
  );
  // Inbound Geneve for another guest's address in the VPC (misdelivered): dropped by gateway.
  const { geneveFrame } = await import("./harness.ts");
  const misdelivered = geneveFrame("fd00:2::1", SLED1, 10, [
    { type: "ethernet", src: "a8:40:25:fa:00:0b", dst: G.mac },
    { type: "ipv4", src: "172.30.0.11", dst: "172.30.0.12" },
    { type: "udp", srcPort: 4001, dstPort: 4000 },
  ]);
  assertDropped(s.send(g, "in", misdelivered), "anti-spoof");
  await s.tshark(t, "anti-spoof");
});

Deno.test("broadcast and multicast from the guest (other than DHCP/NDP) are dropped", async (t) => {
  const s = new Scenario();
  const g = guest(s);
  for (const dst of ["255.255.255.255", "224.0.0.251"]) {
    const f = buildFrame([
      { type: "ethernet", src: G.mac, dst: "ff:ff:ff:ff:ff:ff" },
      { type: "ipv4", src: G.ip, dst },
      { type: "udp", srcPort: 137, dstPort: 137 },
    ]);
    assertDropped(s.send(g, "out", f), "broadcast/multicast");
  }
  const m6 = buildFrame([
    { type: "ethernet", src: G.mac, dst: "33:33:00:00:00:fb" },
    { type: "ipv6", src: G.ip6, dst: "ff02::fb" },
    { type: "udp", srcPort: 5353, dstPort: 5353 },
  ]);
  assertDropped(s.send(g, "out", m6), "broadcast/multicast");
  await s.tshark(t, "broadcast and multicast");
});
