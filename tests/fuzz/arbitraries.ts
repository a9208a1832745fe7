// fast-check arbitraries of whole frames: random stacks (VLAN, IPv4 with options and fragments,
// IPv6 with extension chains, TCP/UDP/ICMP/NDP, ICMP errors quoting datagrams, DHCP, DHCPv6,
// Geneve with random options around an inner frame) built with buildFrame. Structure-aware
// generation reaches deep headers that byte mutation of a few seeds rarely builds.

import * as fc from "fast-check";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { emitDhcp } from "../../lib/packet/dhcp.ts";
import { emitDhcpv6 } from "../../lib/packet/dhcpv6.ts";
import { dhcpReprArb, dhcpv6ReprArb } from "../packet/interop/arbitraries.ts";

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const port = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 255 });

const ethArb: fc.Arbitrary<LayerSpec> = fc.record({
  src: bytes(6),
  dst: bytes(6),
  vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }),
}).map((e) => ({ type: "ethernet", ...e }));

const v4Arb: fc.Arbitrary<LayerSpec> = fc.record({
  src: bytes(4),
  dst: bytes(4),
  ttl: u8,
  id: port,
  df: fc.boolean(),
  moreFragments: fc.boolean(),
  fragOffset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 8191 }).map((x) => x * 8)),
  options: fc.option(fc.integer({ min: 1, max: 10 }).map((n) => new Uint8Array(n * 4).fill(1)), {
    nil: undefined,
  }),
}).map((r) => ({ type: "ipv4", ...r }));

type ExtType = "hopByHop" | "destination" | "routing" | "fragment" | "ah";

const extArb = fc.array(
  fc.record({
    type: fc.constantFrom("hopByHop", "destination", "routing", "fragment", "ah") as fc.Arbitrary<
      ExtType
    >,
    words: fc.integer({ min: 0, max: 3 }),
    fragOffset: fc.constantFrom(0, 0, 8, 1280),
    moreFragments: fc.boolean(),
  }).map((e) => ({
    type: e.type,
    data: e.type === "fragment" ? undefined : new Uint8Array(6 + 8 * e.words),
    fragOffset: e.fragOffset,
    moreFragments: e.moreFragments,
  })),
  { maxLength: 10 },
);

const v6Arb: fc.Arbitrary<LayerSpec> = fc.record({
  src: bytes(16),
  dst: bytes(16),
  hopLimit: u8,
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  extHeaders: extArb,
}).map((r) => ({ type: "ipv6", ...r }));

const payloadArb: fc.Arbitrary<LayerSpec> = fc.uint8Array({ maxLength: 80 }).map((data) => ({
  type: "payload",
  data,
}));

const tcpArb: fc.Arbitrary<LayerSpec> = fc.record({
  srcPort: port,
  dstPort: port,
  flags: u8,
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  mss: fc.option(port, { nil: undefined }),
}).map((r) => ({ type: "tcp", ...r }));

const udpArb: fc.Arbitrary<LayerSpec> = fc.record({
  srcPort: port,
  dstPort: port.filter((p) => p !== 6081),
}).map((r) => ({ type: "udp", ...r }));

/** An IP datagram (any family) with an L4 header and payload. */
function datagram(depth: number): fc.Arbitrary<LayerSpec[]> {
  return fc.boolean().chain((six) => {
    const ip = six ? v6Arb : v4Arb;
    const echo: fc.Arbitrary<LayerSpec> = fc.record({ id: port, seq: port }).map((r) => ({
      type: six ? "icmpv6" : "icmpv4",
      kind: "echoRequest",
      ...r,
    }));
    const l4s: fc.Arbitrary<LayerSpec[]>[] = [
      fc.tuple(tcpArb, payloadArb),
      fc.tuple(udpArb, payloadArb),
      fc.tuple(echo, payloadArb),
    ];
    if (depth < 3) {
      const err: fc.Arbitrary<LayerSpec> = fc.record({
        kind: six
          ? fc.constantFrom("destUnreachable", "packetTooBig", "timeExceeded", "paramProblem")
          : fc.constantFrom("destUnreachable", "timeExceeded", "paramProblem", "redirect"),
        code: fc.integer({ min: 0, max: 15 }),
      }).map((r) => ({ type: six ? "icmpv6" : "icmpv4", ...r }) as LayerSpec);
      l4s.push(fc.tuple(err, datagram(depth + 1)).map(([e, d]) => [e, ...d]));
    }
    return fc.tuple(ip, fc.oneof(...l4s)).map(([i, rest]) => [i, ...rest]);
  });
}

const ndpArb: fc.Arbitrary<LayerSpec[]> = fc.record({
  kind: fc.constantFrom("rs", "ra", "ns", "na", "redirect") as fc.Arbitrary<"ns">,
  target: bytes(16),
  dst: bytes(16),
  options: fc.array(
    fc.oneof(
      bytes(6).map((mac) => ({ type: "sourceLinkAddr" as const, mac })),
      fc.integer({ min: 0, max: 0xffffffff }).map((mtu) => ({ type: "mtu" as const, mtu })),
      fc.record({ optType: u8, data: fc.uint8Array({ maxLength: 30 }) }).map((r) => ({
        type: "raw" as const,
        ...r,
        data: new Uint8Array(r.data.length + ((8 - ((r.data.length + 2) % 8)) % 8))
          .fill(7),
      })),
    ),
    { maxLength: 6 },
  ),
}).map((n) => [
  { type: "ipv6", src: "fe80::1", dst: "ff02::1", hopLimit: 255 },
  { type: "ndp", ...n },
]);

const dhcpArb: fc.Arbitrary<LayerSpec[]> = dhcpReprArb.map((r) => [
  { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
  { type: "udp", srcPort: 68, dstPort: 67 },
  { type: "payload", data: emitDhcp(r) },
]);

const dhcpv6Arb: fc.Arbitrary<LayerSpec[]> = dhcpv6ReprArb.map((r) => [
  { type: "ipv6", src: "fe80::1", dst: "ff02::1:2" },
  { type: "udp", srcPort: 546, dstPort: 547 },
  { type: "payload", data: emitDhcpv6(r) },
]);

const arpArb: fc.Arbitrary<LayerSpec[]> = fc.record({
  op: fc.integer({ min: 0, max: 3 }),
  senderMac: bytes(6),
  senderIp: bytes(4),
  targetIp: bytes(4),
}).map((a) => [{ type: "arp", ...a }]);

const l3Arb = fc.oneof(datagram(0), ndpArb, dhcpArb, dhcpv6Arb, arpArb);

const geneveOptArb = fc.record({
  class: fc.constantFrom(0x0129, 0x0102, 0xffff),
  type: u8.map((t) => t & 0x7f),
  critical: fc.boolean(),
  data: fc.integer({ min: 0, max: 31 }).map((w) => new Uint8Array(w * 4)),
});

const geneveArb: fc.Arbitrary<LayerSpec[]> = fc.record({
  vni: fc.integer({ min: 0, max: 0xffffff }),
  oam: fc.boolean(),
  options: fc.array(geneveOptArb, { maxLength: 4 }),
  inner: fc.tuple(ethArb, l3Arb),
}).map((g) => [
  { type: "ethernet", src: "a8:40:25:01:00:01", dst: "a8:40:25:02:00:01" },
  { type: "ipv6", src: "fd00:2::1", dst: "fd00:1::1" },
  { type: "udp", srcPort: 50000, checksum: "zero" },
  { type: "geneve", vni: g.vni, oam: g.oam, options: g.options },
  g.inner[0],
  ...g.inner[1],
]);

/** Layer stacks of every kind xdeno parses, ready for buildFrame. */
export const layersArb: fc.Arbitrary<LayerSpec[]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(ethArb, l3Arb).map(([e, r]) => [e, ...r]) },
  { weight: 1, arbitrary: geneveArb },
);

/** Frames from `layersArb`; specs the builder rejects (option sizes) are skipped. */
export const frameArb: fc.Arbitrary<Uint8Array> = layersArb.map((l) => {
  try {
    return buildFrame(l);
  } catch {
    return new Uint8Array(0);
  }
}).filter((f) => f.length > 0 && f.length <= 9216);

/** `n` generated frames, reproducible from `seed`. */
export function sampleFrames(seed: number, n: number): [string, Uint8Array][] {
  return fc.sample(frameArb, { seed, numRuns: n }).map((f, i) => [`generated #${i}`, f]);
}
