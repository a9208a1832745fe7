// The seed frames the fuzzer starts from: every frame kind xdeno emits (the interop set), plus
// frames hostile by construction: long and repeating IPv6 extension chains, Geneve option
// floods, DHCP option repetition and overlong options, DNS compression loops in option 119,
// nested DHCPv6 options, NDP option floods, and ICMP errors quoting ICMP errors.

import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import type { GeneveOptionRepr } from "../../lib/packet/geneve.ts";
import { oxideExternalOption, oxideMssOption } from "../../lib/packet/geneve.ts";
import { DHCP_MAGIC } from "../../lib/packet/dhcp.ts";
import { XDENO_FRAMES } from "../packet/interop/frames.ts";

const A = "a8:40:25:00:01:0a", B = "a8:40:25:ff:77:77";
const E: LayerSpec = { type: "ethernet", src: A, dst: B };
const V4: LayerSpec = { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.1" };
const V6: LayerSpec = { type: "ipv6", src: "fd00:1::10", dst: "fd00:1::1" };
const UDP: LayerSpec = { type: "udp", srcPort: 4000, dstPort: 5000 };
const PAYLOAD: LayerSpec = { type: "payload", data: "fuzz" };
const PADN6 = Uint8Array.of(1, 4, 0, 0, 0, 0);

/** The Ethernet/IPv6/UDP(6081) prefix of a tunnel packet from another sled. */
const TUNNEL: LayerSpec[] = [
  { type: "ethernet", src: "a8:40:25:01:00:01", dst: "a8:40:25:02:00:01" },
  { type: "ipv6", src: "fd00:2::1", dst: "fd00:1::1" },
  { type: "udp", srcPort: 50000, checksum: "zero" },
];
const INNER: LayerSpec[] = [
  { type: "ethernet", src: "a8:40:25:00:02:0a", dst: A },
  { type: "ipv4", src: "172.30.1.10", dst: "172.30.0.10" },
  { type: "tcp", srcPort: 80, dstPort: 40000, flags: "A" },
];

function geneve(options: GeneveOptionRepr[], extra: Partial<LayerSpec> = {}): LayerSpec[] {
  return [...TUNNEL, { type: "geneve", vni: 100, options, ...extra } as LayerSpec, ...INNER];
}

function extChain(types: (string | number)[]): LayerSpec[] {
  const extHeaders = types.map((t) => ({ type: t, data: t === "fragment" ? undefined : PADN6 }));
  return [E, { ...V6, extHeaders } as LayerSpec, UDP, PAYLOAD];
}

/** A DHCPv4 message: BOOTREQUEST header, cookie, then raw option bytes. */
export function dhcpRaw(options: number[]): Uint8Array {
  const m = new Uint8Array(240 + options.length);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  m.set([0xa8, 0x40, 0x25, 0, 1, 0x0a], 28);
  new DataView(m.buffer).setUint32(236, DHCP_MAGIC);
  m.set(options, 240);
  return m;
}

function dhcpFrame(options: number[]): LayerSpec[] {
  return [
    { type: "ethernet", src: A, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
    { type: "udp", srcPort: 68, dstPort: 67 },
    { type: "payload", data: dhcpRaw(options) },
  ];
}

function dhcpv6Frame(options: number[]): LayerSpec[] {
  return [
    E,
    { type: "ipv6", src: "fe80::1", dst: "ff02::1:2" },
    { type: "udp", srcPort: 546, dstPort: 547 },
    { type: "payload", data: Uint8Array.of(1, 0x12, 0x34, 0x56, ...options) },
  ];
}

/** A DHCPv6 option: code, u16 length, body. */
function opt6(code: number, body: number[]): number[] {
  return [code >> 8, code & 0xff, body.length >> 8, body.length & 0xff, ...body];
}

function icmp4Error(depth: number): LayerSpec[] {
  const out: LayerSpec[] = [E, V4];
  for (let i = 0; i < depth; i++) {
    out.push({ type: "icmpv4", kind: "destUnreachable", code: 3 });
    out.push({ type: "ipv4", src: "172.30.0.1", dst: "172.30.0.10" });
  }
  out.push({ type: "icmpv4", kind: "echoRequest", id: 7, seq: 1 });
  return out;
}

function icmp6Error(depth: number): LayerSpec[] {
  const out: LayerSpec[] = [E, V6];
  for (let i = 0; i < depth; i++) {
    out.push({ type: "icmpv6", kind: i % 2 ? "timeExceeded" : "packetTooBig", mtu: 1280 });
    out.push({ type: "ipv6", src: "fd00:1::1", dst: "fd00:1::10" });
  }
  out.push({ type: "udp", srcPort: 1, dstPort: 2 });
  return out;
}

const label = (s: string) => [s.length, ...new TextEncoder().encode(s)];
const many = (n: number, f: (i: number) => number[]) =>
  Array.from({ length: n }, (_, i) => f(i)).flat();

const HOSTILE: [string, LayerSpec[]][] = [
  ["vlan udp", [{ ...E, vlan: 7 } as LayerSpec, V4, UDP, PAYLOAD]],
  ["ipv6 ext chain 7", extChain(["hopByHop", ...Array(6).fill("destination")])],
  ["ipv6 ext chain 8", extChain(Array(8).fill("destination"))],
  ["ipv6 ext chain 9", extChain(Array(9).fill("routing"))],
  ["ipv6 ext chain 20", extChain(Array(20).fill("destination"))],
  ["ipv6 repeated hop-by-hop", extChain(["hopByHop", "hopByHop"])],
  ["ipv6 two fragment headers", extChain(["fragment", "fragment"])],
  ["ipv6 ah then unknown ext", extChain(["ah", 253])],
  ["ipv6 later fragment", [
    E,
    {
      ...V6,
      extHeaders: [{ type: "fragment", fragOffset: 64, moreFragments: true }],
    } as LayerSpec,
    UDP,
    PAYLOAD,
  ]],
  ["ipv4 first fragment udp", [E, { ...V4, moreFragments: true } as LayerSpec, UDP, PAYLOAD]],
  ["ipv4 later fragment", [E, { ...V4, fragOffset: 1480 } as LayerSpec, PAYLOAD]],
  ["ipv4 max options tcp", [E, { ...V4, options: new Uint8Array(40).fill(1) } as LayerSpec, {
    type: "tcp",
    srcPort: 1,
    dstPort: 2,
    options: new Uint8Array(40).fill(1),
  }]],
  ["geneve 63 small options", geneve(many(63, () => [0]).map(() => ({ class: 0x0102, type: 3 })))],
  ["geneve max-length option", geneve([{ class: 0x0102, type: 1, data: new Uint8Array(124) }])],
  [
    "geneve two max options",
    geneve([
      { class: 0x0102, type: 1, data: new Uint8Array(120) },
      { class: 0x0129, type: 0, data: new Uint8Array(4) },
    ]),
  ],
  ["geneve unknown critical", geneve([{ class: 0x0102, type: 9, critical: true }])],
  [
    "geneve oxide critical + mss",
    geneve([
      { ...oxideExternalOption(), critical: true },
      oxideMssOption(1200),
      { class: 0x0129, type: 0x55, critical: true, data: new Uint8Array(8) },
    ]),
  ],
  ["geneve oam", geneve([], { oam: true })],
  ["geneve in geneve", [...TUNNEL, { type: "geneve", vni: 5 }, ...TUNNEL, {
    type: "geneve",
    vni: 6,
  }, ...INNER]],
  ["geneve inner icmpv6 x3", [...TUNNEL, { type: "geneve", vni: 7 }, ...icmp6Error(3)]],
  ["geneve over ipv4", [E, V4, { type: "udp", srcPort: 1 }, { type: "geneve", vni: 9 }, ...INNER]],
  ["icmpv4 error x1", icmp4Error(1)],
  ["icmpv4 error x3", icmp4Error(3)],
  ["icmpv6 error x3", icmp6Error(3)],
  ["icmpv6 error x5", icmp6Error(5)],
  [
    "dhcp 119 split in 40 options",
    dhcpFrame([
      53,
      1,
      1,
      ...many(40, (i) => [119, 4, ...label("ab").slice(0, 3), i === 39 ? 0 : 1]),
      255,
    ]),
  ],
  ["dhcp 119 pointer to self", dhcpFrame([119, 2, 0xc0, 0x00, 255])],
  ["dhcp 119 pointer forward", dhcpFrame([119, 6, 0xc0, 0x04, 0, 0, 1, 0x61, 255])],
  [
    "dhcp 119 pointer chain",
    dhcpFrame([
      119,
      2 + 4 + 2 * 70,
      ...label("abc"),
      0,
      ...many(70, (i) => [0xc0, i === 0 ? 0 : 5 + 2 * (i - 1)]),
      255,
    ].map((x, i) => (i === 1 ? Math.min(x, 255) : x))),
  ],
  [
    "dhcp 119 label 63 chain",
    dhcpFrame([119, 255, ...many(4, () => [63, ...Array(63).fill(0x61)]), 0, 0, 255]),
  ],
  ["dhcp overlong option", dhcpFrame([53, 1, 1, 12, 200, 0x61, 0x62])],
  ["dhcp no end", dhcpFrame([53, 1, 1, 12, 2, 0x61, 0x62])],
  ["dhcp overload 52", dhcpFrame([53, 1, 1, 52, 1, 3, 255])],
  ["dhcp 121 bad prefix", dhcpFrame([121, 5, 40, 10, 0, 0, 1, 255])],
  ["dhcp option flood", dhcpFrame([...many(5, () => [43, 255, ...Array(255).fill(0x41)]), 255])],
  ["dhcp pad flood", dhcpFrame([...Array(600).fill(0), 53, 1, 3, 255])],
  [
    "dhcpv6 nested ia_na",
    dhcpv6Frame([
      ...opt6(1, [0, 3, 0, 1, 0xa8, 0x40, 0x25, 0, 1, 0x0a]),
      ...opt6(3, [
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...opt6(5, [...Array(24).fill(0), ...opt6(13, [0, 2, 0x78])]),
      ]),
    ]),
  ],
  ["dhcpv6 domain list compressed", dhcpv6Frame([...opt6(24, [0xc0, 0x00])])],
  [
    "dhcpv6 overlong inner",
    dhcpv6Frame([...opt6(3, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff])]),
  ],
  ["dhcpv6 oro flood", dhcpv6Frame([...opt6(6, many(200, (i) => [0, i & 0xff]))])],
  ["ndp ra option flood", [
    E,
    { ...V6, src: "fe80::1", dst: "ff02::1", hopLimit: 255 } as LayerSpec,
    {
      type: "ndp",
      kind: "ra",
      options: Array.from({ length: 40 }, () => ({ type: "mtu" as const, mtu: 1500 })),
    },
  ]],
  ["ndp rdnss many", [E, { ...V6, src: "fe80::1", dst: "ff02::1", hopLimit: 255 } as LayerSpec, {
    type: "ndp",
    kind: "ra",
    options: [{ type: "rdnss", lifetime: 60, servers: Array(30).fill("fd00::53") }],
  }]],
  ["ndp redirect", [E, { ...V6, src: "fe80::1", dst: "fe80::2", hopLimit: 255 } as LayerSpec, {
    type: "ndp",
    kind: "redirect",
    target: "fe80::3",
    dst: "fd00::9",
    options: [{ type: "raw", optType: 4, data: new Uint8Array(46) }],
  }]],
  ["jumbo udp", [E, V6, UDP, { type: "payload", data: new Uint8Array(9000) }]],
];

/** Every seed frame, named. */
export function seedFrames(): [string, Uint8Array][] {
  return [...XDENO_FRAMES, ...HOSTILE.map(([n, l]): [string, Uint8Array] => [n, buildFrame(l)])];
}
