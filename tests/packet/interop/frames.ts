// Frames xdeno emits for every protocol it speaks, built with buildFrame plus the DHCP
// emitters. Shared by the decode and interop tests (tshark must accept every one).

import { buildFrame, type LayerSpec } from "../../../lib/packet/build.ts";
import { emitDhcp } from "../../../lib/packet/dhcp.ts";
import { duidLl, emitDhcpv6 } from "../../../lib/packet/dhcpv6.ts";
import {
  oxideExternalOption,
  oxideMssOption,
  oxideMulticastOption,
} from "../../../lib/packet/geneve.ts";
import { parseIpv4, parseIpv6, parseMac } from "../../../lib/packet/bytes.ts";

const ZONE = "a8:40:25:00:01:0a", GW = "a8:40:25:ff:77:77";
const E = { type: "ethernet", src: ZONE, dst: GW } as const;
const EB = { type: "ethernet", src: GW, dst: ZONE } as const;
const PADN4 = Uint8Array.of(1, 4, 0, 0, 0, 0);
const v4 = (s: string) => parseIpv4(s)!;

/** The DHCPOFFER the gateway would send to 172.30.0.10. */
export const DHCP_OFFER = emitDhcp({
  op: 2,
  xid: 0x3903f326,
  yiaddr: v4("172.30.0.10"),
  siaddr: v4("172.30.0.1"),
  chaddr: parseMac(ZONE)!,
  messageType: 2,
  serverId: v4("172.30.0.1"),
  leaseTime: 86400,
  renewalTime: 43200,
  rebindingTime: 75600,
  subnetMask: v4("255.255.252.0"),
  routers: [v4("172.30.0.1")],
  dnsServers: [v4("1.1.1.1"), v4("8.8.8.8")],
  hostname: "zone-a",
  domainName: "sled1.oxide.test",
  domainSearch: ["sled1.oxide.test", "oxide.test"],
  classlessRoutes: [{ dest: v4("10.0.0.0"), prefixLen: 8, router: v4("172.30.0.1") }],
  mtu: 1500,
});

/** The DHCPv6 Reply the gateway would send to zone-a. */
export const DHCPV6_REPLY = emitDhcpv6({
  msgType: 7,
  transactionId: 0x123456,
  clientId: duidLl(parseMac(ZONE)!),
  serverId: duidLl(parseMac(GW)!),
  iaNa: [{
    iaid: 1,
    t1: 1800,
    t2: 2880,
    addresses: [{ addr: parseIpv6("fd00:5::132")!, preferredLifetime: 3600, validLifetime: 7200 }],
  }],
  rapidCommit: true,
  dnsServers: [parseIpv6("fd00:5::1")!],
  domainList: ["oxide.test"],
});

const tcpSyn = (srcPort: number, dstPort: number, mss: number): LayerSpec => ({
  type: "tcp",
  srcPort,
  dstPort,
  flags: "S",
  seq: 1000,
  mss,
});

/** [name, layers] for every frame kind; the order is the pcap's frame order. */
export const XDENO_FRAMES: [string, Uint8Array][] = ([
  ["arp request", [{ type: "ethernet", src: ZONE, dst: "ff:ff:ff:ff:ff:ff" }, {
    type: "arp",
    op: "request",
    senderMac: ZONE,
    senderIp: "172.30.0.10",
    targetIp: "172.30.0.1",
  }]],
  ["arp reply", [EB, {
    type: "arp",
    op: "reply",
    senderMac: GW,
    senderIp: "172.30.0.1",
    targetMac: ZONE,
    targetIp: "172.30.0.10",
  }]],
  ["ipv4 options udp", [
    E,
    {
      type: "ipv4",
      src: "172.30.0.10",
      dst: "172.30.0.1",
      ttl: 17,
      id: 0x4242,
      df: true,
      options: Uint8Array.of(0x94, 4, 0, 0), // Router Alert
    },
    { type: "udp", srcPort: 40010, dstPort: 9000 },
    { type: "payload", data: "query" },
  ]],
  ["ipv6 ext headers udp", [
    E,
    {
      type: "ipv6",
      src: "fd00:1::10",
      dst: "fd00:1::11",
      hopLimit: 9,
      extHeaders: [{ type: "hopByHop", data: PADN4 }, { type: "destination", data: PADN4 }],
    },
    { type: "udp", srcPort: 40000, dstPort: 7 },
    { type: "payload", data: "echo" },
  ]],
  ["icmpv4 echo request", [E, { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.1" }, {
    type: "icmpv4",
    kind: "echoRequest",
    id: 0x1234,
    seq: 1,
  }, { type: "payload", data: "ping" }]],
  ["icmpv4 echo reply", [EB, { type: "ipv4", src: "172.30.0.1", dst: "172.30.0.10" }, {
    type: "icmpv4",
    kind: "echoReply",
    id: 0x1234,
    seq: 1,
  }, { type: "payload", data: "ping" }]],
  ["icmpv4 frag needed", [
    EB,
    { type: "ipv4", src: "172.30.0.1", dst: "172.30.0.10" },
    {
      type: "icmpv4",
      kind: "destUnreachable",
      code: 4,
      mtu: 1400,
    },
    { type: "ipv4", src: "172.30.0.10", dst: "8.8.8.8", df: true },
    {
      type: "udp",
      srcPort: 40001,
      dstPort: 9000,
    },
    { type: "payload", data: "x".repeat(32) },
  ]],
  ["icmpv4 time exceeded", [
    EB,
    { type: "ipv4", src: "172.30.0.1", dst: "172.30.0.10" },
    {
      type: "icmpv4",
      kind: "timeExceeded",
    },
    { type: "ipv4", src: "172.30.0.10", dst: "8.8.8.8", ttl: 1 },
    tcpSyn(40002, 443, 1460),
  ]],
  ["icmpv6 echo request", [E, { type: "ipv6", src: "fd00:1::10", dst: "fd00:1::1" }, {
    type: "icmpv6",
    kind: "echoRequest",
    id: 0x4321,
    seq: 2,
  }, { type: "payload", data: "ping6" }]],
  ["icmpv6 packet too big", [
    EB,
    { type: "ipv6", src: "fd00:1::1", dst: "fd00:1::10" },
    {
      type: "icmpv6",
      kind: "packetTooBig",
      mtu: 1280,
    },
    { type: "ipv6", src: "fd00:1::10", dst: "fd00:2::10" },
    {
      type: "udp",
      srcPort: 40003,
      dstPort: 9,
    },
    { type: "payload", data: "y".repeat(40) },
  ]],
  ["ndp rs", [
    { type: "ethernet", src: ZONE, dst: "33:33:00:00:00:02" },
    { type: "ipv6", src: "fe80::aa40:25ff:fe00:10a", dst: "ff02::2", hopLimit: 255 },
    { type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: ZONE }] },
  ]],
  ["ndp ra", [
    { type: "ethernet", src: GW, dst: "33:33:00:00:00:01" },
    { type: "ipv6", src: "fe80::aa40:25ff:feff:7777", dst: "ff02::1", hopLimit: 255 },
    {
      type: "ndp",
      kind: "ra",
      curHopLimit: 64,
      routerLifetime: 1800,
      options: [
        { type: "sourceLinkAddr", mac: GW },
        { type: "mtu", mtu: 1500 },
        { type: "prefixInfo", prefix: "fd00:5::", prefixLen: 64 },
      ],
    },
  ]],
  ["ndp ns", [
    { type: "ethernet", src: ZONE, dst: "33:33:ff:ff:77:77" },
    { type: "ipv6", src: "fe80::aa40:25ff:fe00:10a", dst: "ff02::1:ffff:7777", hopLimit: 255 },
    {
      type: "ndp",
      kind: "ns",
      target: "fe80::aa40:25ff:feff:7777",
      options: [{ type: "sourceLinkAddr", mac: ZONE }],
    },
  ]],
  ["ndp na", [
    EB,
    {
      type: "ipv6",
      src: "fe80::aa40:25ff:feff:7777",
      dst: "fe80::aa40:25ff:fe00:10a",
      hopLimit: 255,
    },
    {
      type: "ndp",
      kind: "na",
      router: true,
      solicited: true,
      override: true,
      target: "fe80::aa40:25ff:feff:7777",
      options: [{ type: "targetLinkAddr", mac: GW }],
    },
  ]],
  ["tcp syn mss ipv4", [E, { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.20" }, {
    ...tcpSyn(40004, 22, 1460),
  }]],
  ["tcp synack mss ipv6", [EB, { type: "ipv6", src: "fd00:1::11", dst: "fd00:1::10" }, {
    type: "tcp",
    srcPort: 22,
    dstPort: 40005,
    flags: "SA",
    seq: 5000,
    ack: 1001,
    mss: 1440,
  }]],
  ["udp ipv4", [E, { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.20" }, {
    type: "udp",
    srcPort: 40006,
    dstPort: 9999,
  }, { type: "payload", data: "hello udp" }]],
  ["geneve vni 99 external", [
    { type: "ethernet", src: "a8:40:25:01:00:01", dst: "a8:40:25:02:00:01" },
    { type: "ipv6", src: "fd00:1::1", dst: "fd00:99::1", hopLimit: 64 },
    { type: "udp", srcPort: 51234, checksum: "zero" },
    { type: "geneve", vni: 99, options: [oxideExternalOption()] },
    { type: "ethernet", src: "a8:40:25:ff:00:01", dst: "a8:40:25:00:01:0a" },
    { type: "ipv4", src: "8.8.8.8", dst: "172.30.0.10" },
    { type: "tcp", srcPort: 443, dstPort: 40000, flags: "SA", seq: 7, ack: 1001, mss: 1400 },
  ]],
  ["geneve vni 100 mss", [
    { type: "ethernet", src: "a8:40:25:01:00:01", dst: "a8:40:25:02:00:01" },
    { type: "ipv6", src: "fd00:1::1", dst: "fd00:2::1", hopLimit: 64 },
    { type: "udp", srcPort: 51235, checksum: "zero" },
    { type: "geneve", vni: 100, options: [oxideMssOption(1448)] },
    { type: "ethernet", src: "a8:40:25:00:01:0a", dst: "a8:40:25:00:02:0a" },
    { type: "ipv4", src: "172.30.0.10", dst: "172.30.1.10" },
    tcpSyn(40007, 80, 1448),
  ]],
  ["geneve vni 77 multicast two options", [
    { type: "ethernet", src: "a8:40:25:01:00:01", dst: "33:33:00:00:00:fb" },
    { type: "ipv6", src: "fd00:1::1", dst: "ff04::1:2", hopLimit: 64 },
    { type: "udp", srcPort: 51236, checksum: "zero" },
    { type: "geneve", vni: 77, options: [oxideMulticastOption(1), oxideMssOption(1400)] },
    { type: "ethernet", src: "a8:40:25:00:01:0a", dst: "01:00:5e:01:02:03" },
    { type: "ipv4", src: "172.30.0.10", dst: "239.1.2.3", ttl: 8 },
    { type: "udp", srcPort: 40008, dstPort: 5000 },
    { type: "payload", data: "mcast" },
  ]],
  ["dhcpv4 offer", [
    { type: "ethernet", src: GW, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "ipv4", src: "172.30.0.1", dst: "255.255.255.255", ttl: 64 },
    { type: "udp", srcPort: 67, dstPort: 68 },
    { type: "payload", data: DHCP_OFFER },
  ]],
  ["dhcpv6 reply", [
    EB,
    { type: "ipv6", src: "fe80::aa40:25ff:feff:7777", dst: "fe80::aa40:25ff:fe00:10a" },
    { type: "udp", srcPort: 547, dstPort: 546 },
    { type: "payload", data: DHCPV6_REPLY },
  ]],
] as [string, LayerSpec[]][]).map(([name, layers]) => [name, buildFrame(layers)]);
