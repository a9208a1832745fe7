import assert from "node:assert/strict";
import { fromHex } from "../../lib/packet/bytes.ts";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, PacketMeta } from "../../lib/packet/meta.ts";
import { flowOf, parseFrame, parseIpLevel } from "../../lib/packet/parse.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { HeaderLevel } from "../../lib/packet/meta.ts";
import {
  oxideExternalOption,
  oxideMssOption,
  oxideMulticastOption,
} from "../../lib/packet/geneve.ts";

const E = { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" } as const;

function parsed(frame: Uint8Array, start = 0): PacketMeta {
  const meta = new PacketMeta();
  const err = parseFrame(frame, start, frame.length - start, meta);
  assert.equal(err, null, JSON.stringify(err));
  return meta;
}

Deno.test("parse: scapy's Geneve frame fills outer, Geneve and inner fields", () => {
  // Built by scapy 2.5, independent of buildFrame.
  const f = fromHex(
    "a84025000002a8402500000186dd6000000000521140fd000001000000000000000000000001fd000002000000000000000000000001c00017c100520000030065580004d200012900000129020100000578a8402500000ba8402500000a0800450000280000000040062276ac1e000aac1e00149c400016000000010000000250180200b9180000",
  )!;
  const m = parsed(f);
  assert.deepEqual(
    [m.outer.ether, m.outer.etherType, m.outer.l3, m.outer.ipVersion, m.outer.ipEnd],
    [0, 0x86dd, 14, 6, 14 + 40 + 0x52],
  );
  assert.deepEqual([m.outer.proto, m.outer.l4, m.outer.srcPort, m.outer.dstPort], [
    17,
    54,
    49152,
    6081,
  ]);
  assert.equal(m.encap, true);
  assert.deepEqual([m.geneve, m.vni, m.geneveOptLen], [62, 1234, 12]);
  assert.equal(m.oxideOpts, 1 | 4);
  assert.equal(m.oxideMss, 1400);
  assert.equal(m.oxideReplication, -1);
  assert.equal(m.geneveUnknownCritical, false);
  const i = m.inner;
  assert.deepEqual([i.ether, i.etherType, i.l3, i.ipVersion, i.ipEnd], [82, 0x0800, 96, 4, 136]);
  assert.deepEqual([i.proto, i.l4, i.payload, i.srcPort, i.dstPort, i.tcpFlags], [
    6,
    116,
    136,
    40000,
    22,
    0x18,
  ]);
  assert.equal(m.flow, m.inner);
  const fl = new FlowId();
  assert.ok(flowOf(f, m.flow, fl));
  assert.equal(fl.toString(), "TCP 172.30.0.10:40000 -> 172.30.0.20:22");
});

Deno.test("parse: frame at a non-zero start with trailing bytes beyond len", () => {
  const inner = buildFrame([E, { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" }, {
    type: "udp",
    srcPort: 1111,
    dstPort: 2222,
  }, { type: "payload", data: "x" }]);
  const buf = new Uint8Array(128 + inner.length + 50).fill(0xee);
  buf.set(inner, 128);
  const m = new PacketMeta();
  assert.equal(parseFrame(buf, 128, inner.length, m), null);
  assert.deepEqual([m.start, m.len, m.outer.l3, m.outer.l4, m.outer.ipEnd], [
    128,
    inner.length,
    142,
    162,
    128 + inner.length,
  ]);
  // The same frame cut one byte short must not read the 0xee bytes beyond len.
  assert.equal(parseFrame(buf, 128, inner.length - 1, m)?.kind, "truncated");
});

Deno.test("parse: unknown critical Geneve option is recorded, non-critical ignored", () => {
  const layers = (opts: { class: number; type: number; critical?: boolean; data?: Uint8Array }[]) =>
    buildFrame([
      E,
      { type: "ipv6", src: "fd00:1::1", dst: "fd00:2::1" },
      { type: "udp", checksum: "zero" },
      { type: "geneve", vni: 99, options: opts },
      E,
      { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" },
      { type: "icmpv4", kind: "echoRequest", id: 5 },
    ]);
  assert.equal(
    parsed(layers([{ class: 0x1234, type: 1, data: new Uint8Array(4) }])).geneveUnknownCritical,
    false,
  );
  const m = parsed(layers([oxideMulticastOption(2), { class: 0x1234, type: 1, critical: true }]));
  assert.equal(m.geneveUnknownCritical, true);
  assert.equal(m.oxideOpts, 2);
  assert.equal(m.oxideReplication, 2);
  assert.equal(m.vni, 99);
  assert.equal(m.inner.srcPort, 5);
  // An Oxide type we do not know, marked critical, must also be refused.
  assert.equal(
    parsed(layers([{ class: 0x129, type: 9, critical: true }])).geneveUnknownCritical,
    true,
  );
  assert.equal(parsed(layers([oxideExternalOption(), oxideMssOption(8948)])).oxideMss, 8948);
});

Deno.test("parse: fragments — first carries L4, later ones carry none", () => {
  const v4 = (fragOffset: number, more: boolean) =>
    parsed(buildFrame([
      E,
      {
        type: "ipv4",
        src: "10.0.0.5",
        dst: "10.0.0.6",
        fragOffset,
        moreFragments: more,
      },
      { type: "udp", srcPort: 1, dstPort: 2 },
      { type: "payload", data: new Uint8Array(16) },
    ]))
      .outer;
  let l = v4(0, true);
  assert.deepEqual([l.fragment, l.l4, l.srcPort], [FRAG_FIRST, 34, 1]);
  l = v4(8, true);
  assert.deepEqual([l.fragment, l.l4, l.proto, l.payload], [FRAG_LATER, -1, 17, -1]);
  l = v4(0, false);
  assert.equal(l.fragment, FRAG_NONE);
  // A first fragment of a large UDP datagram: the UDP length counts bytes not in this frame.
  const big = buildFrame([E, {
    type: "ipv4",
    src: "10.0.0.5",
    dst: "10.0.0.6",
    moreFragments: true,
  }, {
    type: "udp",
    srcPort: 7,
    dstPort: 9,
    length: 4000,
  }, { type: "payload", data: new Uint8Array(1472) }]);
  l = parsed(big).outer;
  assert.deepEqual([l.fragment, l.l4, l.srcPort, l.dstPort, l.payload], [FRAG_FIRST, 34, 7, 9, 42]);
  const gfrag = buildFrame([
    E,
    {
      type: "ipv6",
      src: "fd00::1",
      dst: "fd00::2",
      extHeaders: [{
        type: "fragment",
        moreFragments: true,
      }],
    },
    { type: "udp", checksum: "zero", length: 3000 },
    { type: "geneve", vni: 1 },
    E,
    {
      type: "payload",
      data: "x",
    },
  ]);
  assert.deepEqual(parseFrame(gfrag, 0, gfrag.length, new PacketMeta()), {
    kind: "unsupported",
    at: "geneve.fragment",
    offset: 62,
  });
  const v6 = parsed(buildFrame([E, {
    type: "ipv6",
    src: "fd00::1",
    dst: "fd00::2",
    extHeaders: [{ type: "routing", data: new Uint8Array(6) }, {
      type: "fragment",
      fragOffset: 1448,
      ident: 1,
    }],
  }, { type: "tcp", srcPort: 1, dstPort: 2 }])).outer;
  assert.deepEqual([v6.fragment, v6.proto, v6.l4], [FRAG_LATER, 6, -1]);
  const fl = new FlowId();
  assert.ok(flowOf(new Uint8Array(0), new HeaderLevel(), fl) === false);
});

Deno.test("flowOf: a reply's flow is the mirror of the request's", () => {
  const pairs: [LayerSpec[], LayerSpec[]][] = [
    [
      [E, { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8" }, {
        type: "tcp",
        srcPort: 40000,
        dstPort: 443,
        flags: "S",
      }],
      [E, { type: "ipv4", src: "8.8.8.8", dst: "10.0.0.5" }, {
        type: "tcp",
        srcPort: 443,
        dstPort: 40000,
        flags: "SA",
      }],
    ],
    [
      [E, { type: "ipv6", src: "fd00::5", dst: "fd00::6" }, {
        type: "icmpv6",
        kind: "echoRequest",
        id: 77,
        seq: 1,
      }],
      [E, { type: "ipv6", src: "fd00::6", dst: "fd00::5" }, {
        type: "icmpv6",
        kind: "echoReply",
        id: 77,
        seq: 1,
      }],
    ],
    [
      [E, { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.1" }, {
        type: "icmpv4",
        kind: "echoRequest",
        id: 9,
      }],
      [E, { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.5" }, {
        type: "icmpv4",
        kind: "echoReply",
        id: 9,
      }],
    ],
  ];
  for (const [req, rep] of pairs) {
    const a = buildFrame(req), b = buildFrame(rep);
    const fa = new FlowId(), fb = new FlowId();
    assert.ok(flowOf(a, parsed(a).flow, fa));
    assert.ok(flowOf(b, parsed(b).flow, fb));
    assert.ok(fa.mirror().equals(fb), `${fa} vs ${fb}`);
  }
  const err = buildFrame([
    E,
    { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.5" },
    {
      type: "icmpv4",
      kind: "destUnreachable",
      code: 3,
    },
    { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.1" },
    { type: "udp", srcPort: 5, dstPort: 6 },
  ]);
  const fe = new FlowId();
  flowOf(err, parsed(err).outer, fe);
  assert.deepEqual([fe.proto, fe.srcPort, fe.dstPort], [1, 0x0303, 0x0303]);
});

Deno.test("parseIpLevel: embedded datagram in an ICMP error may be truncated", () => {
  const f = buildFrame([
    E,
    { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.5" },
    {
      type: "icmpv4",
      kind: "timeExceeded",
    },
    { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8", totalLength: 1500 },
    {
      type: "tcp",
      srcPort: 40000,
      dstPort: 443,
    },
  ]);
  const m = parsed(f);
  const lv = new HeaderLevel();
  // The strict parser refuses it: the quoted length runs past the frame.
  assert.equal(parseIpLevel(f, m.outer.payload, m.outer.ipEnd, lv, false)?.kind, "truncated");
  lv.reset();
  assert.equal(parseIpLevel(f, m.outer.payload, m.outer.ipEnd, lv, true), null);
  assert.deepEqual([lv.ipVersion, lv.proto, lv.srcPort, lv.dstPort, lv.ipEnd], [
    4,
    6,
    40000,
    443,
    f.length,
  ]);
});

Deno.test("parse: ARP and unknown EtherTypes are not errors, just not IP", () => {
  const arp = parsed(buildFrame([E, {
    type: "arp",
    senderMac: "a8:40:25:00:00:01",
    senderIp: "10.0.0.5",
    targetIp: "10.0.0.1",
  }]));
  assert.deepEqual([arp.outer.etherType, arp.outer.l3, arp.outer.ipVersion], [0x0806, 14, 0]);
  const lldp = parsed(buildFrame([{ ...E, etherType: 0x88cc }, {
    type: "payload",
    data: new Uint8Array(20),
  }]));
  assert.deepEqual([lldp.outer.etherType, lldp.outer.l3], [0x88cc, -1]);
});

Deno.test("parse: a guest's own UDP to port 6081 is not a tunnel when geneve is off", () => {
  const f = buildFrame([E, { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" }, {
    type: "udp",
    srcPort: 5000,
    dstPort: 6081,
  }, { type: "payload", data: "not geneve at all" }]);
  const m = new PacketMeta();
  assert.equal(parseFrame(f, 0, f.length, m)?.at, "geneve.version");
  assert.equal(parseFrame(f, 0, f.length, m, false), null);
  assert.deepEqual([m.encap, m.outer.dstPort, m.geneve], [false, 6081, -1]);
  assert.equal(parseFrame(f, -1, 10, m)?.kind, "malformed");
});
