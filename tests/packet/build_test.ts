// buildFrame against reference bytes produced independently by scapy 2.5 (see the spec next
// to each constant): every EtherType, protocol number, length and checksum must match.
import assert from "node:assert/strict";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { verifyIpv4Header, verifyL4Checksum } from "../../lib/packet/checksum.ts";

const E = { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" } as const;
const PADN4 = Uint8Array.of(1, 4, 0, 0, 0, 0);
const text = (s: string) => new TextEncoder().encode(s);

const CASES: [string, LayerSpec[], string][] = [
  [
    "ipv4/tcp SYN with MSS",
    [E, { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8" }, {
      type: "tcp",
      srcPort: 40000,
      dstPort: 443,
      flags: "S",
      seq: 1000,
      mss: 1460,
    }, { type: "payload", data: "abcd" }],
    "a84025ff7777a8402500000108004500003000000000400660b40a000005080808089c4001bb000003e8000000006002ffff17640000020405b461626364",
  ],
  [
    "ipv6/udp",
    [E, { type: "ipv6", src: "fd00:1::10", dst: "fd00:2::10" }, {
      type: "udp",
      srcPort: 5353,
      dstPort: 53,
    }, { type: "payload", data: text("hello") }],
    "a84025ff7777a8402500000186dd60000000000d1140fd000001000000000000000000000010fd00000200000000000000000000001014e90035000dacbf68656c6c6f",
  ],
  [
    "icmpv4 echo",
    [E, { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.1" }, {
      type: "icmpv4",
      kind: "echoRequest",
      id: 0x1234,
      seq: 7,
    }, { type: "payload", data: "ping" }],
    "a84025ff7777a8402500000108004500002000000000400166d80a0000050a000001080006f41234000770696e67",
  ],
  [
    "icmpv6 echo",
    [E, { type: "ipv6", src: "fd00:1::10", dst: "fd00:1::1" }, {
      type: "icmpv6",
      kind: "echoRequest",
      id: 0x1234,
      seq: 7,
    }, { type: "payload", data: "ping" }],
    "a84025ff7777a8402500000186dd60000000000c3a40fd000001000000000000000000000010fd000001000000000000000000000001800094981234000770696e67",
  ],
  [
    "arp request",
    [{ type: "ethernet", src: "a8:40:25:00:00:01", dst: "ff:ff:ff:ff:ff:ff" }, {
      type: "arp",
      op: "request",
      senderMac: "a8:40:25:00:00:01",
      senderIp: "10.0.0.5",
      targetIp: "10.0.0.1",
    }],
    "ffffffffffffa8402500000108060001080006040001a840250000010a0000050000000000000a000001",
  ],
  [
    "ndp neighbor solicitation",
    [
      { type: "ethernet", src: "a8:40:25:00:00:01", dst: "33:33:ff:00:00:01" },
      { type: "ipv6", src: "fe80::aa40:25ff:fe00:1", dst: "ff02::1:ff00:1", hopLimit: 255 },
      {
        type: "ndp",
        kind: "ns",
        target: "fe80::1",
        options: [{ type: "sourceLinkAddr", mac: "a8:40:25:00:00:01" }],
      },
    ],
    "3333ff000001a8402500000186dd6000000000203afffe80000000000000aa4025fffe000001ff0200000000000000000001ff0000018700e11700000000fe8000000000000000000000000000010101a84025000001",
  ],
  [
    "ndp router advertisement",
    [
      { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "33:33:00:00:00:01" },
      { type: "ipv6", src: "fe80::aa40:25ff:feff:7777", dst: "ff02::1", hopLimit: 255 },
      {
        type: "ndp",
        kind: "ra",
        curHopLimit: 64,
        managed: true,
        other: true,
        preference: 1,
        routerLifetime: 1800,
        options: [
          { type: "sourceLinkAddr", mac: "a8:40:25:ff:77:77" },
          { type: "mtu", mtu: 1500 },
          { type: "prefixInfo", prefix: "fd00:1::", prefixLen: 64 },
        ],
      },
    ],
    "333300000001a84025ff777786dd6000000000403afffe80000000000000aa4025fffeff7777ff0200000000000000000000000000018600d15b40c8070800000000000000000101a84025ff777705010000000005dc030440c0000151800000384000000000fd000001000000000000000000000000",
  ],
  [
    "ndp neighbor advertisement",
    [
      { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "a8:40:25:00:00:01" },
      { type: "ipv6", src: "fe80::1", dst: "fe80::aa40:25ff:fe00:1", hopLimit: 255 },
      {
        type: "ndp",
        kind: "na",
        router: true,
        solicited: true,
        override: true,
        target: "fe80::1",
        options: [{ type: "targetLinkAddr", mac: "a8:40:25:ff:77:77" }],
      },
    ],
    "a84025000001a84025ff777786dd6000000000203afffe800000000000000000000000000001fe80000000000000aa4025fffe00000188008625e0000000fe8000000000000000000000000000010201a84025ff7777",
  ],
  [
    "geneve with oxide options over ipv6",
    [
      { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:00:00:02" },
      { type: "ipv6", src: "fd00:1::1", dst: "fd00:2::1" },
      { type: "udp", srcPort: 49152, checksum: "zero" },
      {
        type: "geneve",
        vni: 1234,
        options: [{ class: 0x129, type: 0 }, {
          class: 0x129,
          type: 2,
          data: Uint8Array.of(0, 0, 5, 0x78),
        }],
      },
      { type: "ethernet", src: "a8:40:25:00:00:0a", dst: "a8:40:25:00:00:0b" },
      { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.20" },
      { type: "tcp", srcPort: 40000, dstPort: 22, flags: "PA", seq: 1, ack: 2, window: 512 },
    ],
    "a84025000002a8402500000186dd6000000000521140fd000001000000000000000000000001fd000002000000000000000000000001c00017c100520000030065580004d200012900000129020100000578a8402500000ba8402500000a0800450000280000000040062276ac1e000aac1e00149c400016000000010000000250180200b9180000",
  ],
  [
    "802.1Q tagged ipv4/udp with DF",
    [{ ...E, vlan: 100, pcp: 3 }, {
      type: "ipv4",
      src: "10.0.0.5",
      dst: "10.0.0.6",
      df: true,
      ttl: 1,
    }, { type: "udp", srcPort: 1, dstPort: 2 }],
    "a84025ff7777a840250000018100606408004500001c00004000011165c70a0000050a000006000100020008ebd0",
  ],
  [
    "ipv6 extension chain with first fragment",
    [
      E,
      {
        type: "ipv6",
        src: "fd00::1",
        dst: "fd00::2",
        extHeaders: [{ type: "hopByHop", data: PADN4 }, { type: "destination", data: PADN4 }, {
          type: "fragment",
          moreFragments: true,
          ident: 7,
        }],
      },
      { type: "icmpv6", kind: "echoRequest", id: 9, seq: 1 },
      { type: "payload", data: "ping" },
    ],
    "a84025ff7777a8402500000186dd6000000000240040fd000000000000000000000000000001fd0000000000000000000000000000023c000104000000002c000104000000003a000001000000078000a6d90009000170696e67",
  ],
  [
    "icmpv6 packet too big embedding the packet",
    [
      E,
      { type: "ipv6", src: "fd00::1", dst: "fd00::2" },
      {
        type: "icmpv6",
        kind: "packetTooBig",
        mtu: 1280,
      },
      { type: "ipv6", src: "fd00::2", dst: "fd00::9" },
      {
        type: "udp",
        srcPort: 1000,
        dstPort: 2000,
      },
      { type: "payload", data: "zz" },
    ],
    "a84025ff7777a8402500000186dd60000000003a3a40fd000000000000000000000000000001fd00000000000000000000000000000202008d570000050060000000000a1140fd000000000000000000000000000002fd00000000000000000000000000000903e807d0000a7f9b7a7a",
  ],
  [
    "icmpv4 time exceeded embedding the datagram",
    [
      E,
      { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.5" },
      {
        type: "icmpv4",
        kind: "timeExceeded",
      },
      { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8", ttl: 1 },
      {
        type: "udp",
        srcPort: 33434,
        dstPort: 33435,
      },
    ],
    "a84025ff7777a8402500000108004500003800000000400166c00a0000010a0000050b000f2e000000004500001c0000000001119fbd0a00000508080808829a829b0008e093",
  ],
];

for (const [name, layers, hex] of CASES) {
  Deno.test(`buildFrame matches scapy: ${name}`, () => {
    assert.equal(toHex(buildFrame(layers)), hex);
  });
}

Deno.test("buildFrame: overrides produce exactly the broken field asked for", () => {
  const good = buildFrame([E, { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8" }, {
    type: "udp",
    srcPort: 1,
    dstPort: 2,
  }]);
  const bad = buildFrame([E, { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8", totalLength: 999 }, {
    type: "udp",
    srcPort: 1,
    dstPort: 2,
    checksum: 0xbeef,
    length: 7,
  }]);
  assert.equal(bad.length, good.length);
  assert.equal((bad[16] << 8) | bad[17], 999);
  assert.ok(verifyIpv4Header(bad, 14), "header checksum stays right for the bad length");
  assert.equal((bad[38] << 8) | bad[39], 7);
  assert.equal((bad[40] << 8) | bad[41], 0xbeef);
  const diff = [...good].map((b, i) => b === bad[i] ? -1 : i).filter((i) => i >= 0);
  assert.deepEqual(diff, [16, 17, 24, 25, 39, 40, 41]);
});

Deno.test("buildFrame: zero UDP checksum, padding outside lengths, raw ethertype", () => {
  const f = buildFrame([{ ...E, padTo: 60 }, { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" }, {
    type: "udp",
    srcPort: 7,
    dstPort: 7,
    checksum: "zero",
  }]);
  assert.equal(f.length, 60);
  assert.equal((f[16] << 8) | f[17], 28);
  assert.equal((f[40] << 8) | f[41], 0);
  const meta = new PacketMeta();
  assert.equal(parseFrame(f, 0, f.length, meta), null);
  assert.equal(meta.outer.ipEnd, 14 + 28);
  assert.ok(verifyL4Checksum(f, meta.outer));
  const raw = buildFrame([E, { type: "payload", data: fromHex("0102")! }]);
  assert.equal(toHex(raw.subarray(12)), "88b50102");
});

Deno.test("buildFrame: a bad address in a spec throws with the value named", () => {
  assert.throws(
    () => buildFrame([{ type: "ethernet", src: "a8:40:25:zz:00:01", dst: "a8:40:25:00:00:01" }]),
    /a8:40:25:zz:00:01/,
  );
  assert.throws(() => buildFrame([E, { type: "ipv4", src: "10.0.0", dst: "1.2.3.4" }]), /10\.0\.0/);
});
