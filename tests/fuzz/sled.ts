// The sled the pipeline fuzzer and the soak test drive: the switch on memory links with every
// port kind (host xde0, two system zones, two instances with the real VPC pipeline, one with
// SNAT) and two underlay links, plus valid seed frames for each side to mutate from.

import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { emitDhcp } from "../../lib/packet/dhcp.ts";
import { duidLl, emitDhcpv6 } from "../../lib/packet/dhcpv6.ts";
import { parseIpv4, parseMac } from "../../lib/packet/bytes.ts";
import { type MemoryLink, memoryPair } from "../../lib/link/memory.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { type VpcPort, vpcPort } from "../../lib/vpc/vpc_port.ts";
import type { VpcPortConfig } from "../../lib/vpc/config.ts";
import {
  GW_LL,
  GW_MAC,
  HOST,
  rackNa,
  REMOTE,
  routedSled,
  SLED,
  type Sled,
  UL,
  ZA,
  ZB,
} from "../switch/harness.ts";

/** The VPC every overlay port of the sled belongs to. */
export const VNI = 10;
/** The other sled (behind the rack) hosting vm-c. */
export const SLED2 = "fd00:2::1";
/** Instance with SNAT. */
export const VA = { name: "vm-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", ip6: "fd00:a::10" };
/** Instance without external addresses. */
export const VB = { name: "vm-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11", ip6: "fd00:a::11" };
/** An instance on sled 2 (V2P mapping only). */
export const VC = { mac: "a8:40:25:fa:00:0c", ip: "172.30.0.12" };
/** The system zone with an overlay identity. */
export const NX = {
  name: "nexus",
  mac: "a8:40:25:00:01:20",
  ip: "fd00:1::20",
  priv: "172.30.2.5",
  external: "203.0.113.20",
};
const CLIENT = "198.51.100.7";

/** A fuzzable sled: the harness sled plus instances and their guest ends. */
export interface FuzzSled extends Sled {
  vms: Record<string, { guest: MemoryLink; vpc: VpcPort }>;
}

/** Builds the sled (routes resolved, instances attached). */
export function fuzzSled(opts: Partial<VpcPortConfig> = {}): FuzzSled {
  const s = routedSled() as FuzzSled;
  s.vms = {};
  const maps = new Mappings();
  maps.v2p.set(VNI, VA.ip, VA.mac, SLED);
  maps.v2p.set(VNI, VB.ip, VB.mac, SLED);
  maps.v2p.set(VNI, VC.ip, VC.mac, SLED2);
  maps.v2b.set("0.0.0.0/0", [{ ip: "fd00:2::99" }]);
  for (const [g, snat] of [[VA, true], [VB, false]] as const) {
    const [mine, guest] = memoryPair(
      { name: g.name, clock: () => s.clock.t },
      { name: `${g.name}-guest`, mac: g.mac, clock: () => s.clock.t },
    );
    const vpc = vpcPort({
      name: g.name,
      vni: VNI,
      guestMac: g.mac,
      underlay: SLED,
      v4: {
        privateIp: g.ip,
        subnet: "172.30.0.0/22",
        external: snat ? { snat: { ip: "203.0.113.9", ports: "1024-1100" } } : undefined,
      },
      v6: { privateIp: g.ip6, subnet: "fd00:a::/64" },
      firewall: firewallRulesFromText([{ direction: "in", priority: 1, action: "allow" }]),
      mappings: maps,
      clock: () => s.clock.t,
      ...opts,
    });
    s.sw.addPort({
      name: g.name,
      kind: "instance",
      link: mine,
      mac: g.mac,
      vni: VNI,
      pipeline: vpc,
    });
    s.vms[g.name] = { guest, vpc };
  }
  // A system zone with an overlay identity (OPTE #127): underlay pass-through for its own
  // address, the VPC pipeline (ephemeral IP via boundary services) for everything else.
  const [mine, guest] = memoryPair(
    { name: NX.name, clock: () => s.clock.t },
    { name: `${NX.name}-zone`, mac: NX.mac, clock: () => s.clock.t },
  );
  const vpc = vpcPort({
    name: NX.name,
    vni: VNI,
    guestMac: NX.mac,
    underlay: SLED,
    v4: {
      privateIp: NX.priv,
      subnet: "172.30.2.0/24",
      external: { ephemeralIp: NX.external },
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
    ...opts,
  });
  s.sw.addPort({
    name: NX.name,
    kind: "system",
    link: mine,
    mac: NX.mac,
    underlay: [NX.ip],
    vni: VNI,
    pipeline: vpc,
  });
  s.vms[NX.name] = { guest, vpc };
  return s;
}

const f = (l: LayerSpec[]) => buildFrame(l);
const v4 = (x: string) => parseIpv4(x)!;

function zoneSeeds(z: { mac: string; ip: string }): [string, Uint8Array][] {
  const E = { type: "ethernet", src: z.mac, dst: GW_MAC } as const;
  const ip = (dst: string, hopLimit = 64) => ({ type: "ipv6", src: z.ip, dst, hopLimit }) as const;
  return [
    ["udp to remote", f([E, ip(REMOTE), { type: "udp", srcPort: 4000, dstPort: 53 }])],
    ["udp to zone-b", f([E, ip(ZB.ip), { type: "udp", srcPort: 4000, dstPort: 53 }])],
    [
      "tcp syn to remote",
      f([E, ip(REMOTE), { type: "tcp", srcPort: 4001, dstPort: 80, flags: "S", mss: 1460 }]),
    ],
    ["hop limit 1", f([E, ip(REMOTE, 1), { type: "udp", srcPort: 1, dstPort: 2 }])],
    ["echo to gateway", f([E, ip(GW_LL), { type: "icmpv6", kind: "echoRequest", id: 1, seq: 1 }])],
    [
      "rs",
      f([{ ...E, dst: "33:33:00:00:00:02" }, {
        type: "ipv6",
        src: "fe80::aa40:25ff:fe00:10a",
        dst: "ff02::2",
        hopLimit: 255,
      }, { type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: z.mac }] }]),
    ],
    [
      "ns gateway",
      f([E, { type: "ipv6", src: z.ip, dst: GW_LL, hopLimit: 255 }, {
        type: "ndp",
        kind: "ns",
        target: GW_LL,
        options: [{ type: "sourceLinkAddr", mac: z.mac }],
      }]),
    ],
    [
      "icmp error to remote",
      f([E, ip(REMOTE), { type: "icmpv6", kind: "packetTooBig", mtu: 1280 }, {
        type: "ipv6",
        src: REMOTE,
        dst: z.ip,
      }, { type: "udp", srcPort: 53, dstPort: 4000 }]),
    ],
  ];
}

function vmSeeds(g: typeof VA): [string, Uint8Array][] {
  const E = { type: "ethernet", src: g.mac, dst: GW_MAC } as const;
  const ip = (dst: string) => ({ type: "ipv4", src: g.ip, dst }) as const;
  const dhcp = emitDhcp({
    op: 1,
    xid: 7,
    chaddr: parseMac(g.mac)!,
    messageType: 1,
    requestedIp: v4(g.ip),
  });
  const dhcp6 = emitDhcpv6({
    msgType: 1,
    transactionId: 9,
    clientId: duidLl(parseMac(g.mac)!),
    iaNa: [{ iaid: 1, t1: 0, t2: 0, addresses: [] }],
  });
  return [
    [
      "arp gateway",
      f([{ ...E, dst: "ff:ff:ff:ff:ff:ff" }, {
        type: "arp",
        senderMac: g.mac,
        senderIp: g.ip,
        targetIp: "172.30.0.1",
      }]),
    ],
    [
      "dhcp discover",
      f([
        { ...E, dst: "ff:ff:ff:ff:ff:ff" },
        { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
        { type: "udp", srcPort: 68, dstPort: 67 },
        { type: "payload", data: dhcp },
      ]),
    ],
    [
      "dhcpv6 solicit",
      f([{ ...E, dst: "33:33:00:01:00:02" }, { type: "ipv6", src: "fe80::1", dst: "ff02::1:2" }, {
        type: "udp",
        srcPort: 546,
        dstPort: 547,
      }, { type: "payload", data: dhcp6 }]),
    ],
    [
      "udp to vm-b",
      f([E, ip(VB.ip), { type: "udp", srcPort: 5000, dstPort: 5001 }, {
        type: "payload",
        data: "x",
      }]),
    ],
    ["udp to vm on sled 2", f([E, ip(VC.ip), { type: "udp", srcPort: 5000, dstPort: 5002 }])],
    [
      "tcp syn internet",
      f([E, ip("8.8.8.8"), { type: "tcp", srcPort: 40000, dstPort: 443, flags: "S", mss: 1460 }]),
    ],
    [
      "echo gateway",
      f([E, ip("172.30.0.1"), { type: "icmpv4", kind: "echoRequest", id: 3, seq: 1 }]),
    ],
    [
      "rs v6",
      f([{ ...E, dst: "33:33:00:00:00:02" }, {
        type: "ipv6",
        src: "fe80::1",
        dst: "ff02::2",
        hopLimit: 255,
      }, { type: "ndp", kind: "rs" }]),
    ],
    [
      "udp6 to vm-b",
      f([E, { type: "ipv6", src: g.ip6, dst: VB.ip6 }, { type: "udp", srcPort: 1, dstPort: 2 }]),
    ],
  ];
}

function underlaySeeds(i: number): [string, Uint8Array][] {
  const E = { type: "ethernet", src: UL[i].rackMac, dst: UL[i].mac } as const;
  const geneveTo = (vni: number, inner: LayerSpec[]) =>
    f([
      E,
      { type: "ipv6", src: SLED2, dst: SLED },
      { type: "udp", srcPort: 50000, checksum: "zero" },
      { type: "geneve", vni },
      ...inner,
    ]);
  const innerUdp: LayerSpec[] = [{ type: "ethernet", src: VC.mac, dst: VA.mac }, {
    type: "ipv4",
    src: VC.ip,
    dst: VA.ip,
  }, { type: "udp", srcPort: 7, dstPort: 8 }];
  return [
    ["geneve to vm-a", geneveTo(VNI, innerUdp)],
    ["geneve unknown vni", geneveTo(11, innerUdp)],
    [
      "geneve tcp reply",
      geneveTo(VNI, [{ type: "ethernet", src: VC.mac, dst: VA.mac }, {
        type: "ipv4",
        src: VC.ip,
        dst: VA.ip,
      }, { type: "tcp", srcPort: 80, dstPort: 4000, flags: "SA" }]),
    ],
    [
      "underlay to zone-a",
      f([E, { type: "ipv6", src: REMOTE, dst: ZA.ip }, {
        type: "udp",
        srcPort: 53,
        dstPort: 4000,
      }]),
    ],
    [
      "underlay to host",
      f([E, { type: "ipv6", src: REMOTE, dst: HOST.ip }, {
        type: "tcp",
        srcPort: 22,
        dstPort: 4000,
        flags: "A",
      }]),
    ],
    [
      "ns for link",
      f([{ ...E, dst: "33:33:ff:01:00:01" }, {
        type: "ipv6",
        src: "fe80::ff",
        dst: "ff02::1:ff01:1",
        hopLimit: 255,
      }, {
        type: "ndp",
        kind: "ns",
        target: UL[i].ll,
        options: [{ type: "sourceLinkAddr", mac: UL[i].rackMac }],
      }]),
    ],
    ["rack na", rackNa(i)],
    [
      "boundary syn to nexus",
      f([
        E,
        { type: "ipv6", src: "fd00:2::99", dst: SLED },
        {
          type: "udp",
          srcPort: 51000,
          checksum: "zero",
        },
        { type: "geneve", vni: VNI },
        { type: "ethernet", src: "a8:40:25:77:77:77", dst: NX.mac },
        {
          type: "ipv4",
          src: CLIENT,
          dst: NX.external,
        },
        { type: "tcp", srcPort: 40000, dstPort: 443, flags: "S" },
      ]),
    ],
    [
      "underlay hop limit 1",
      f([E, { type: "ipv6", src: REMOTE, dst: ZA.ip, hopLimit: 1 }, {
        type: "udp",
        srcPort: 1,
        dstPort: 2,
      }]),
    ],
  ];
}

function nexusSeeds(): [string, Uint8Array][] {
  const E = { type: "ethernet", src: NX.mac, dst: GW_MAC } as const;
  const tcp = (src: string, dst: string, sp: number, dp: number, flags: string): LayerSpec[] => [
    { type: "ipv4", src, dst },
    { type: "tcp", srcPort: sp, dstPort: dp, flags, seq: 100, ack: 1 },
  ];
  return [
    ...zoneSeeds(NX).slice(0, 3),
    ["overlay reply to client", f([E, ...tcp(NX.priv, CLIENT, 443, 40000, "SA")])],
    [
      "overlay udp out",
      f([E, { type: "ipv4", src: NX.priv, dst: "8.8.4.4" }, {
        type: "udp",
        srcPort: 5353,
        dstPort: 53,
      }]),
    ],
    [
      "arp gateway",
      f([{ ...E, dst: "ff:ff:ff:ff:ff:ff" }, {
        type: "arp",
        senderMac: NX.mac,
        senderIp: NX.priv,
        targetIp: "172.30.2.1",
      }]),
    ],
  ];
}

/** Where a fuzz frame enters: a port's client end or an underlay link's rack end. */
export interface Side {
  name: string;
  link: MemoryLink;
  /** The destination MAC a frame needs to get past L2 filtering. */
  mac: Uint8Array;
  seeds: [string, Uint8Array][];
}

/** Every side of the sled with its seeds. */
export function sides(s: FuzzSled): Side[] {
  const gw = parseMac(GW_MAC)!;
  return [
    { name: "host", link: s.zones[HOST.name], mac: gw, seeds: zoneSeeds(HOST) },
    { name: "zone-a", link: s.zones[ZA.name], mac: gw, seeds: zoneSeeds(ZA) },
    { name: "vm-a", link: s.vms[VA.name].guest, mac: gw, seeds: vmSeeds(VA) },
    { name: "vm-b", link: s.vms[VB.name].guest, mac: gw, seeds: vmSeeds(VB) },
    { name: "nexus", link: s.vms[NX.name].guest, mac: gw, seeds: nexusSeeds() },
    { name: "ul0", link: s.rack[0], mac: parseMac(UL[0].mac)!, seeds: underlaySeeds(0) },
    { name: "ul1", link: s.rack[1], mac: parseMac(UL[1].mac)!, seeds: underlaySeeds(1) },
  ];
}
