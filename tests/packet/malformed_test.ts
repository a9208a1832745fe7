// Hand-written malformed frames, each with the typed error parseFrame must return.
import assert from "node:assert/strict";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import type { ParseError } from "../../lib/packet/error.ts";

const E = { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" } as const;
const V4 = { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" } as const;
const V6 = { type: "ipv6", src: "fd00::1", dst: "fd00::2" } as const;
const UDP = { type: "udp", srcPort: 1, dstPort: 2 } as const;
const TCP = { type: "tcp", srcPort: 1, dstPort: 2 } as const;
const DATA = { type: "payload", data: "0123456789abcdef" } as const;
const GENEVE_OUTER: LayerSpec[] = [E, V6, { type: "udp", checksum: "zero" }];
const DOPT = { type: "destination" } as const;

/** Builds a frame, then applies a byte patch (offset, value) when given. */
function frame(layers: LayerSpec[], patch: [number, number][] = [], cut = 0): Uint8Array {
  const f = buildFrame(layers);
  for (const [at, v] of patch) f[at] = v;
  return f.subarray(0, f.length - cut);
}

const CASES: [string, Uint8Array, Partial<ParseError>][] = [
  ["empty frame", new Uint8Array(0), { kind: "truncated", at: "ethernet", offset: 0 }],
  ["runt ethernet", new Uint8Array(13), { kind: "truncated", at: "ethernet" }],
  ["vlan tag cut", frame([{ ...E, vlan: 3 }, DATA]).subarray(0, 16), { at: "vlan", offset: 12 }],
  [
    "double vlan tag",
    frame([{ ...E, vlan: 3 }, DATA], [[16, 0x81], [17, 0x00]]),
    { kind: "unsupported", at: "vlan", offset: 16 },
  ],
  [
    "arp with IEEE 802 hardware type",
    frame([E, { type: "arp", senderMac: E.src, senderIp: "10.0.0.5", targetIp: "10.0.0.1" }], [
      [15, 6],
    ]),
    { kind: "unsupported", at: "arp", offset: 14 },
  ],
  ["ipv4 version 5", frame([E, { ...V4, version: 5 }, UDP]), {
    kind: "malformed",
    at: "ipv4.version",
    offset: 14,
  }],
  // The EtherType decides the parser: an IPv6 header under EtherType IPv4 is malformed.
  ["ipv4 ethertype over an ipv6 header", frame([{ ...E, etherType: 0x0800 }, V6, UDP]), {
    kind: "malformed",
    at: "ipv4.version",
  }],
  ["ipv4 ihl 4", frame([E, { ...V4, ihl: 4 }, UDP]), {
    kind: "malformed",
    at: "ipv4.ihl",
    offset: 14,
  }],
  [
    "ipv4 ihl past frame",
    frame([E, { ...V4, ihl: 15 }, UDP]),
    { kind: "truncated", at: "ipv4.options", offset: 34 },
  ],
  [
    "ipv4 total length below header",
    frame([E, { ...V4, totalLength: 19 }, UDP]),
    { kind: "malformed", at: "ipv4.length", offset: 16 },
  ],
  [
    "ipv4 total length past frame",
    frame([E, { ...V4, totalLength: 29 }, UDP]),
    { kind: "truncated", at: "ipv4.length", offset: 16 },
  ],
  [
    "ipv4 first fragment without a whole udp header",
    frame([E, { ...V4, moreFragments: true, totalLength: 24 }, UDP, DATA]),
    { kind: "truncated", at: "udp", offset: 34 },
  ],
  ["ipv6 version 4 nibble", frame([E, { ...V6, version: 4 }, UDP]), {
    kind: "malformed",
    at: "ipv6.version",
    offset: 14,
  }],
  [
    "ipv6 payload length past frame",
    frame([E, { ...V6, payloadLength: 9 }, UDP]),
    { kind: "truncated", at: "ipv6.length", offset: 18 },
  ],
  [
    "ipv6 jumbogram",
    frame([E, { ...V6, payloadLength: 0, extHeaders: [{ type: "hopByHop" }] }, UDP]),
    { kind: "unsupported", at: "ipv6.jumbogram" },
  ],
  [
    "ipv6 extension chain over the limit",
    frame([E, { ...V6, extHeaders: Array(9).fill(DOPT) }, UDP]),
    { kind: "malformed", at: "ipv6.ext-chain", offset: 54 + 8 * 8 },
  ],
  [
    "ipv6 hop-by-hop after another header",
    frame([E, { ...V6, extHeaders: [DOPT, { type: "hopByHop" }] }, UDP]),
    { kind: "malformed", at: "ipv6.hop-by-hop", offset: 62 },
  ],
  [
    "ipv6 two fragment headers",
    frame([E, { ...V6, extHeaders: [{ type: "fragment" }, { type: "fragment" }] }, UDP]),
    { kind: "malformed", at: "ipv6.fragment", offset: 62 },
  ],
  [
    "ipv6 extension header length past datagram",
    frame([E, { ...V6, extHeaders: [DOPT] }, UDP], [[55, 200]]),
    { kind: "truncated", at: "ipv6.ext", offset: 54 },
  ],
  [
    "ipv6 extension header cut",
    frame([E, { ...V6, payloadLength: 4, extHeaders: [DOPT] }], [], 4),
    { kind: "truncated", at: "ipv6.ext", offset: 54 },
  ],
  ["tcp data offset 4", frame([E, V4, { ...TCP, dataOffset: 4 }]), {
    kind: "malformed",
    at: "tcp.data-offset",
    offset: 46,
  }],
  ["tcp data offset past datagram", frame([E, V4, { ...TCP, dataOffset: 15 }, DATA]), {
    kind: "truncated",
    at: "tcp.options",
  }],
  ["tcp header cut", frame([E, { ...V4, totalLength: 39 }, TCP], [], 1), {
    kind: "truncated",
    at: "tcp",
    offset: 34,
  }],
  ["udp length 7", frame([E, V4, { ...UDP, length: 7 }]), {
    kind: "malformed",
    at: "udp.length",
    offset: 38,
  }],
  ["udp length past datagram", frame([E, V4, { ...UDP, length: 9 }]), {
    kind: "truncated",
    at: "udp.length",
    offset: 38,
  }],
  ["icmpv4 header cut", frame([E, { ...V4, totalLength: 27 }, { type: "icmpv4" }], [], 1), {
    kind: "truncated",
    at: "icmpv4",
  }],
  [
    "icmpv6 NS without target",
    frame([E, { ...V6, payloadLength: 20 }, { type: "ndp", kind: "ns" }], [], 4),
    { kind: "truncated", at: "icmpv6" },
  ],
  [
    "ndp option with length 0",
    frame([E, V6, { type: "ndp", kind: "ns", options: [{ type: "sourceLinkAddr", mac: E.src }] }], [
      [79, 0],
    ]),
    { kind: "malformed", at: "ndp.option-length", offset: 79 },
  ],
  [
    "ndp option longer than message",
    frame([E, V6, { type: "ndp", kind: "rs", options: [{ type: "mtu", mtu: 1500 }] }], [[63, 2]]),
    { kind: "truncated", at: "ndp.option", offset: 62 },
  ],
  [
    "geneve version 1",
    frame([...GENEVE_OUTER, { type: "geneve", vni: 5 }, E, V4, UDP], [[62, 0x40]]),
    { kind: "unsupported", at: "geneve.version", offset: 62 },
  ],
  [
    "geneve protocol IPv4",
    frame([...GENEVE_OUTER, { type: "geneve", vni: 5, protocol: 0x0800 }, V4, UDP]),
    { kind: "unsupported", at: "geneve.protocol", offset: 64 },
  ],
  [
    "geneve option length past datagram",
    frame([...GENEVE_OUTER, { type: "geneve", vni: 5, optLenWords: 63 }, E, V4, UDP]),
    { kind: "truncated", at: "geneve.options", offset: 70 },
  ],
  [
    "geneve option longer than option area",
    frame([
      ...GENEVE_OUTER,
      { type: "geneve", vni: 5, options: [{ class: 1, type: 1 }] },
      E,
      V4,
      UDP,
    ], [[73, 31]]),
    { kind: "malformed", at: "geneve.option-length", offset: 73 },
  ],
  [
    "geneve header cut",
    frame([...GENEVE_OUTER, { type: "payload", data: "1234567" }], [[56, 0x17], [57, 0xc1]]),
    { kind: "truncated", at: "geneve", offset: 62 },
  ],
  [
    "geneve inner ethernet runt",
    frame([...GENEVE_OUTER, { type: "geneve", vni: 5 }, { type: "payload", data: "short" }]),
    { kind: "truncated", at: "ethernet", offset: 70 },
  ],
  [
    "geneve inner ipv4 bad",
    frame([...GENEVE_OUTER, { type: "geneve", vni: 5 }, E, { ...V4, ihl: 2 }, UDP]),
    { kind: "malformed", at: "ipv4.ihl", offset: 84 },
  ],
  [
    "geneve inner cut by outer udp length",
    frame([...GENEVE_OUTER, { type: "geneve", vni: 5 }, E, V4, UDP], [[59, 8 + 8 + 14 + 20]]),
    { kind: "truncated", at: "ipv4.length", offset: 86 },
  ],
];

for (const [name, f, want] of CASES) {
  Deno.test(`malformed: ${name}`, () => {
    const got = parseFrame(f, 0, f.length, new PacketMeta());
    assert.ok(got !== null, "expected a ParseError, got a successful parse");
    for (const [k, v] of Object.entries(want)) {
      assert.equal(
        (got as unknown as Record<string, unknown>)[k],
        v,
        `${k}: ${JSON.stringify(got)}`,
      );
    }
  });
}

const VALID: [string, LayerSpec[]][] = [
  ["ipv4/tcp", [E, V4, { ...TCP, mss: 1460 }, DATA]],
  ["vlan/ipv6 ext/udp", [
    { ...E, vlan: 9 },
    { ...V6, extHeaders: [{ type: "hopByHop" }, DOPT] },
    UDP,
    DATA,
  ]],
  ["ipv6/ndp ra", [E, V6, { type: "ndp", kind: "ra", options: [{ type: "mtu", mtu: 9000 }] }]],
  ["ipv4/icmp error", [E, V4, { type: "icmpv4", kind: "timeExceeded" }, V4, UDP]],
  [
    "geneve",
    [
      ...GENEVE_OUTER,
      { type: "geneve", vni: 7, options: [{ class: 0x129, type: 0 }] },
      E,
      V4,
      TCP,
      DATA,
    ],
  ],
];

for (const [name, layers] of VALID) {
  Deno.test(`malformed: every truncation of ${name} is a truncated error`, () => {
    const f = buildFrame(layers);
    const meta = new PacketMeta();
    assert.equal(parseFrame(f, 0, f.length, meta), null);
    for (let n = 0; n < f.length; n++) {
      const e = parseFrame(f, 0, n, meta);
      assert.equal(e?.kind, "truncated", `cut at ${n}: ${JSON.stringify(e)}`);
      assert.ok(e!.offset >= 0 && e!.offset <= n, `offset ${e!.offset} within the ${n} bytes`);
    }
  });
}
