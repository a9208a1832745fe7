import assert from "node:assert/strict";
import { emitArp } from "../../lib/packet/arp.ts";
import { type DhcpRepr, emitDhcp, parseDhcp } from "../../lib/packet/dhcp.ts";
import { dhcpReprParse } from "../../lib/packet/dhcp_decode.ts";
import {
  type Dhcpv6Repr,
  dhcpv6ReprParse,
  duidLl,
  emitDhcpv6,
  parseDhcpv6,
} from "../../lib/packet/dhcpv6.ts";
import { isParseError } from "../../lib/packet/error.ts";
import { emitEthernet } from "../../lib/packet/ethernet.ts";
import { emitNdp, ndpBufferLen, type NdpRepr } from "../../lib/packet/ndp.ts";
import { ipFrame, udpSegment } from "../../lib/vpc/emit.ts";
import {
  arpReply,
  dhcpReply,
  dhcpv6Reply,
  gatewayIdentity,
  icmpEchoReply,
  icmpv6EchoReply,
  neighborAdvert,
  routerAdvert,
} from "../../lib/vpc/hairpin.ts";
import { eui64LinkLocal, ipv6MulticastMac, solicitedNode } from "../../lib/packet/addr.ts";
import { be16, cat, hex, inetChecksum, ip4, ip6, mac, parsed } from "./frames.ts";
import { assertTsharkClean, tsharkFields, tsharkStep } from "./tshark.ts";

const GUEST_MAC = mac("a8:40:25:fa:00:05");
const GW_MAC = mac("a8:40:25:ff:77:77");
const GUEST_LL = eui64LinkLocal(GUEST_MAC);
const GW_LL = ip6("fe80::aa40:25ff:feff:7777");
const gw = gatewayIdentity({
  guestMac: GUEST_MAC,
  v4: { guestIp: ip4("172.30.0.5"), gatewayIp: ip4("172.30.0.1") },
  v6: { guestIp: ip6("fd00:a::5") },
  mtu: 1500,
  dhcp: {
    dns4: [ip4("8.8.8.8"), ip4("1.1.1.1")],
    dns6: [ip6("2001:4860:4860::8888")],
    hostname: "web-1",
    domain: "vpc.example",
    search: ["example.com", "corp.example.com"],
    leaseTime: 86400,
  },
});

const lv = (frame: Uint8Array) => parsed(frame).outer;

function ndpFrame(src: Uint8Array, dst: Uint8Array, dstMac: Uint8Array, r: NdpRepr): Uint8Array {
  const l4 = new Uint8Array(ndpBufferLen(r));
  emitNdp(r, l4, 0);
  return ipFrame(GUEST_MAC, dstMac, src, dst, 58, l4, 255);
}

Deno.test("gateway LL is the EUI-64 of A8:40:25:FF:77:77", () => {
  assert.deepEqual(gw.linkLocal, GW_LL);
  assert.deepEqual(solicitedNode(GW_LL), ip6("ff02::1:ffff:7777"));
});

Deno.test("hairpin: ARP for the gateway IPv4 → reply with the gateway MAC (exact bytes)", async (t) => {
  const req = new Uint8Array(42);
  emitEthernet({ src: GUEST_MAC, dst: mac("ff:ff:ff:ff:ff:ff"), etherType: 0x0806 }, req, 0);
  emitArp(
    {
      operation: 1,
      senderMac: GUEST_MAC,
      senderIp: ip4("172.30.0.5"),
      targetMac: new Uint8Array(6),
      targetIp: ip4("172.30.0.1"),
    },
    req,
    14,
  );
  const reply = arpReply(req, lv(req), gw);
  assert.deepEqual(
    reply,
    hex(
      "a84025fa0005 a84025ff7777 0806 0001 0800 06 04 0002 a84025ff7777 ac1e0001 a84025fa0005 ac1e0005",
    ),
  );
  // ARP for another address, or from another MAC, is not answered.
  const other = req.slice();
  other[14 + 27] = 9;
  assert.equal(arpReply(other, lv(other), gw), null);
  const spoof = req.slice();
  spoof[11] = 0x99;
  assert.equal(arpReply(spoof, lv(spoof), gw), null);
  await assertTsharkClean(t, [req, reply!], "ARP");
});

Deno.test("hairpin: ICMP echo to the gateway → echo reply (exact bytes)", async (t) => {
  const icmp = hex("0800 0000 1234 0001 6162636465666768");
  const req = ipFrame(GUEST_MAC, GW_MAC, ip4("172.30.0.5"), ip4("172.30.0.1"), 1, icmp);
  const reply = icmpEchoReply(req, lv(req), gw)!;
  const ipHdr = hex("4500 0024 0000 0000 4001 0000 ac1e0001 ac1e0005");
  ipHdr.set(be16(inetChecksum([ipHdr])), 10);
  const body = hex("0000 0000 1234 0001 6162636465666768");
  body.set(be16(inetChecksum([body])), 2);
  assert.deepEqual(reply, cat(hex("a84025fa0005 a84025ff7777 0800"), ipHdr, body));
  // Echo to another address is not the gateway's to answer.
  const elsewhere = ipFrame(GUEST_MAC, GW_MAC, ip4("172.30.0.5"), ip4("8.8.8.8"), 1, icmp);
  assert.equal(icmpEchoReply(elsewhere, lv(elsewhere), gw), null);
  await assertTsharkClean(t, [req, reply], "ICMP echo");
});

Deno.test("hairpin: ICMPv6 echo to the gateway link-local from guest LL and VPC address", async (t) => {
  const icmp = hex("8000 0000 abcd 0007 00112233");
  const frames: Uint8Array[] = [];
  for (const src of [GUEST_LL, ip6("fd00:a::5")]) {
    const req = ipFrame(GUEST_MAC, GW_MAC, src, GW_LL, 58, icmp, 64);
    const reply = icmpv6EchoReply(req, lv(req), gw)!;
    const ipHdr = cat(hex("6000 0000 000c 3a40"), GW_LL, src);
    const body = hex("8100 0000 abcd 0007 00112233");
    body.set(be16(inetChecksum([GW_LL, src, hex("0000000c 0000003a"), body])), 2);
    assert.deepEqual(reply, cat(hex("a84025fa0005 a84025ff7777 86dd"), ipHdr, body));
    frames.push(req, reply);
  }
  const stranger = ipFrame(GUEST_MAC, GW_MAC, ip6("fe80::1"), GW_LL, 58, icmp, 64);
  assert.equal(icmpv6EchoReply(stranger, lv(stranger), gw), null);
  await assertTsharkClean(t, frames, "ICMPv6 echo");
});

function dhcpRequestFrame(r: Partial<DhcpRepr>): Uint8Array {
  const payload = emitDhcp({ op: 1, xid: 0x3903f326, chaddr: GUEST_MAC, ...r });
  return ipFrame(
    GUEST_MAC,
    mac("ff:ff:ff:ff:ff:ff"),
    ip4("0.0.0.0"),
    ip4("255.255.255.255"),
    17,
    udpSegment(68, 67, payload),
    64,
  );
}

Deno.test("hairpin: DHCPv4 Discover → Offer, Request → Ack with routes, DNS, names", async (t) => {
  const discover = dhcpRequestFrame({
    messageType: 1,
    flags: 0x8000,
    parameterRequestList: [1, 3, 6, 121],
  });
  const offer = dhcpReply(discover, lv(discover), gw)!;
  const request = dhcpRequestFrame({
    messageType: 3,
    requestedIp: ip4("172.30.0.5"),
    serverId: ip4("172.30.0.1"),
  });
  const ack = dhcpReply(request, lv(request), gw)!;
  // Offer was asked for broadcast; Ack is unicast to the guest.
  assert.deepEqual(offer.subarray(0, 14), hex("ffffffffffff a84025ff7777 0800"));
  assert.deepEqual(offer.subarray(26, 34), hex("ac1e0001 ffffffff"));
  assert.deepEqual(ack.subarray(0, 14), hex("a84025fa0005 a84025ff7777 0800"));
  assert.deepEqual(ack.subarray(26, 34), hex("ac1e0001 ac1e0005"));
  assert.deepEqual(ack.subarray(34, 38), hex("0043 0044"));
  for (const [frame, type] of [[offer, 2], [ack, 5]] as const) {
    const m = lv(frame);
    const v = parseDhcp(frame, m.payload, m.ipEnd);
    assert.ok(!isParseError(v));
    const r = dhcpReprParse(v);
    assert.ok(!isParseError(r));
    assert.equal(r.op, 2);
    assert.equal(r.xid, 0x3903f326);
    assert.equal(r.messageType, type);
    assert.deepEqual(r.yiaddr, ip4("172.30.0.5"));
    assert.deepEqual(r.chaddr, GUEST_MAC);
    assert.deepEqual(r.subnetMask, ip4("255.255.255.255"));
    assert.deepEqual(r.routers, [ip4("172.30.0.1")]);
    assert.deepEqual(r.serverId, ip4("172.30.0.1"));
    assert.deepEqual(r.dnsServers, [ip4("8.8.8.8"), ip4("1.1.1.1")]);
    assert.equal(r.hostname, "web-1");
    assert.equal(r.domainName, "vpc.example");
    assert.deepEqual(r.domainSearch, ["example.com", "corp.example.com"]);
    assert.equal(r.leaseTime, 86400);
    assert.deepEqual(r.classlessRoutes, [
      { dest: ip4("172.30.0.1"), prefixLen: 32, router: ip4("0.0.0.0") },
      { dest: ip4("0.0.0.0"), prefixLen: 0, router: ip4("172.30.0.1") },
    ]);
  }
  // Option 121 on the wire (RFC 3442 encoding): 32 ac1e0001 00000000, 00 ac1e0001.
  const needle = hex("79 0e 20ac1e0001 00000000 00 ac1e0001");
  const at = [...ack].findIndex((_, i) => needle.every((b, j) => ack[i + j] === b));
  assert.ok(at > 0, "option 121 bytes present");
  // A Request for another server, and other message types, get nothing.
  const elsewhere = dhcpRequestFrame({ messageType: 3, serverId: ip4("10.9.9.9") });
  assert.equal(dhcpReply(elsewhere, lv(elsewhere), gw), null);
  const release = dhcpRequestFrame({ messageType: 7 });
  assert.equal(dhcpReply(release, lv(release), gw), null);
  await assertTsharkClean(t, [discover, offer, request, ack], "DHCPv4");
  await tsharkStep(t, "DHCPv4 fields", async () => {
    const rows = await tsharkFields([offer, ack], ["dhcp.option.dhcp", "dhcp.ip.your"]);
    assert.deepEqual(rows, [["2", "172.30.0.5"], ["5", "172.30.0.5"]]);
  });
});

function dhcpv6Frame(r: Dhcpv6Repr): Uint8Array {
  const dst = ip6("ff02::1:2");
  const payload = udpSegment(546, 547, emitDhcpv6(r));
  return ipFrame(GUEST_MAC, ipv6MulticastMac(dst), GUEST_LL, dst, 17, payload, 1);
}

Deno.test("hairpin: DHCPv6 Solicit with rapid commit → Reply; without → Advertise; others", async (t) => {
  const clientId = duidLl(GUEST_MAC);
  const ia = [{ iaid: 7, t1: 0, t2: 0, addresses: [] }];
  const base = { transactionId: 0xabcdef, clientId, iaNa: ia, oro: [23, 24], elapsedTime: 0 };
  const solicitRc = dhcpv6Frame({ msgType: 1, rapidCommit: true, ...base });
  const solicit = dhcpv6Frame({ msgType: 1, ...base });
  const request = dhcpv6Frame({ msgType: 3, serverId: duidLl(GW_MAC), ...base });
  const renew = dhcpv6Frame({ msgType: 5, serverId: duidLl(GW_MAC), ...base });
  const rebind = dhcpv6Frame({ msgType: 6, ...base });
  const confirm = dhcpv6Frame({
    msgType: 4,
    transactionId: 1,
    clientId,
    iaNa: [{
      iaid: 7,
      t1: 0,
      t2: 0,
      addresses: [{ addr: ip6("fd00:a::5"), preferredLifetime: 0, validLifetime: 0 }],
    }],
  });
  const info = dhcpv6Frame({ msgType: 11, transactionId: 2, oro: [23] });
  const requestNoServer = dhcpv6Frame({ msgType: 3, ...base });
  const frames: Uint8Array[] = [];
  const replyOf = (f: Uint8Array) => {
    const out = dhcpv6Reply(f, lv(f), gw);
    if (out) frames.push(f, out);
    if (!out) return null;
    const m = lv(out);
    assert.deepEqual(out.subarray(0, 14), hex("a84025fa0005 a84025ff7777 86dd"));
    assert.deepEqual(out.subarray(22, 38), GW_LL);
    assert.deepEqual(out.subarray(38, 54), GUEST_LL);
    assert.equal(m.srcPort, 547);
    assert.equal(m.dstPort, 546);
    const v = parseDhcpv6(out, m.payload, m.ipEnd);
    assert.ok(!isParseError(v));
    const r = dhcpv6ReprParse(v);
    assert.ok(!isParseError(r));
    assert.deepEqual(r.serverId, duidLl(GW_MAC));
    return r;
  };
  // Upstream: every lifetime infinite (0xffffffff).
  const INF = 0xffffffff;
  const lease = [{
    iaid: 7,
    t1: INF,
    t2: INF,
    addresses: [{ addr: ip6("fd00:a::5"), preferredLifetime: INF, validLifetime: INF }],
  }];
  const rc = replyOf(solicitRc)!;
  assert.equal(rc.msgType, 7);
  assert.equal(rc.rapidCommit, true);
  assert.equal(rc.transactionId, 0xabcdef);
  assert.deepEqual(rc.clientId, clientId);
  assert.deepEqual(rc.iaNa, lease);
  assert.deepEqual(rc.dnsServers, [ip6("2001:4860:4860::8888")]);
  // The search list alone, in its order (upstream's domain_search_list).
  assert.deepEqual(rc.domainList, ["example.com", "corp.example.com"]);
  const adv = replyOf(solicit)!;
  assert.equal(adv.msgType, 2);
  assert.equal(adv.rapidCommit, undefined);
  assert.deepEqual(adv.iaNa, lease);
  for (const f of [request, renew, rebind]) {
    const r = replyOf(f)!;
    assert.equal(r.msgType, 7);
    assert.deepEqual(r.iaNa, lease);
  }
  const conf = replyOf(confirm)!;
  assert.equal(conf.msgType, 7);
  assert.deepEqual(conf.status, { code: 0, message: "on link" });
  const inf = replyOf(info)!;
  assert.equal(inf.msgType, 7);
  assert.equal(inf.iaNa, undefined);
  assert.deepEqual(inf.dnsServers, [ip6("2001:4860:4860::8888")]);
  assert.equal(replyOf(requestNoServer), null);
  await assertTsharkClean(t, frames, "DHCPv6");
  await tsharkStep(t, "DHCPv6 fields", async () => {
    const rows = await tsharkFields(frames.slice(0, 2), ["dhcpv6.msgtype", "dhcpv6.option.type"]);
    assert.equal(rows[1][0], "7");
    assert.ok(rows[1][1].split(/[|,]/).includes("14"), `rapid commit option in ${rows[1][1]}`);
  });
});

Deno.test("hairpin: RS → RA with managed flag, MTU and source LL (exact bytes)", async (t) => {
  const allRouters = ip6("ff02::2");
  const rs = ndpFrame(GUEST_LL, allRouters, ipv6MulticastMac(allRouters), {
    kind: "rs",
    options: [{ type: "sourceLinkAddr", mac: GUEST_MAC }],
  });
  const ra = routerAdvert(rs, lv(rs), gw)!;
  const body = hex(
    "8600 0000 ff80 2328 00000000 00000000 0101 a84025ff7777 0501 0000 000005dc",
  );
  body.set(be16(inetChecksum([GW_LL, GUEST_LL, hex("00000020 0000003a"), body])), 2);
  assert.deepEqual(
    ra,
    cat(hex("a84025fa0005 a84025ff7777 86dd 6000 0000 0020 3aff"), GW_LL, GUEST_LL, body),
  );
  // RS with a hop limit other than 255 was routed: not a valid RS (RFC 4861 §6.1.1).
  const routed = rs.slice();
  routed[21] = 64;
  assert.equal(routerAdvert(routed, lv(routed), gw), null);
  await assertTsharkClean(t, [rs, ra], "RS/RA");
});

Deno.test("hairpin: NS for the gateway LL → NA with router flag; DAD and others unanswered", async (t) => {
  const snm = solicitedNode(GW_LL);
  const ns = ndpFrame(GUEST_LL, snm, ipv6MulticastMac(snm), {
    kind: "ns",
    target: GW_LL,
    options: [{ type: "sourceLinkAddr", mac: GUEST_MAC }],
  });
  const na = neighborAdvert(ns, lv(ns), gw)!;
  const body = cat(hex("8800 0000 e0000000"), GW_LL, hex("0201 a84025ff7777"));
  body.set(be16(inetChecksum([GW_LL, GUEST_LL, hex("00000020 0000003a"), body])), 2);
  assert.deepEqual(
    na,
    cat(hex("a84025fa0005 a84025ff7777 86dd 6000 0000 0020 3aff"), GW_LL, GUEST_LL, body),
  );
  // Unicast NS (reachability probe) to the gateway LL.
  const probe = ndpFrame(GUEST_LL, GW_LL, GW_MAC, { kind: "ns", target: GW_LL });
  const na2 = neighborAdvert(probe, lv(probe), gw)!;
  assert.equal(na2[54], 136);
  assert.deepEqual(na2.subarray(38, 54), GUEST_LL);
  assert.equal(na2[58], 0xe0);
  // From :: (the guest doing DAD on the gateway address): NA to all-nodes, not solicited.
  const dadGw = ndpFrame(new Uint8Array(16), snm, ipv6MulticastMac(snm), {
    kind: "ns",
    target: GW_LL,
  });
  const na3 = neighborAdvert(dadGw, lv(dadGw), gw)!;
  assert.deepEqual(na3.subarray(0, 6), hex("333300000001"));
  assert.deepEqual(na3.subarray(38, 54), ip6("ff02::1"));
  assert.equal(na3[58], 0xa0);
  // DAD for the guest's own address and NS for other targets: no answer.
  const own = ip6("fd00:a::5");
  const dad = ndpFrame(
    new Uint8Array(16),
    solicitedNode(own),
    ipv6MulticastMac(solicitedNode(own)),
    {
      kind: "ns",
      target: own,
    },
  );
  assert.equal(neighborAdvert(dad, lv(dad), gw), null);
  const other = ndpFrame(
    GUEST_LL,
    solicitedNode(ip6("fe80::9")),
    ipv6MulticastMac(solicitedNode(ip6("fe80::9"))),
    {
      kind: "ns",
      target: ip6("fe80::9"),
    },
  );
  assert.equal(neighborAdvert(other, lv(other), gw), null);
  await assertTsharkClean(t, [ns, na, probe, na2, dadGw, na3, dad, other], "NS/NA");
});
