// Generated packets: build → parse round-trips, Repr emit → parse round-trips, and arbitrary
// or mutated bytes never throw and never yield offsets outside the frame.
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { type HeaderLevel, PacketMeta } from "../../lib/packet/meta.ts";
import { flowOf, parseFrame } from "../../lib/packet/parse.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { verifyIpv4Header, verifyL4Checksum } from "../../lib/packet/checksum.ts";
import { isParseError } from "../../lib/packet/error.ts";
import { emitIpv4, ipv4BufferLen, ipv4Repr, Ipv4View, parseIpv4 } from "../../lib/packet/ipv4.ts";
import { emitTcp, parseTcp, tcpBufferLen, tcpRepr, TcpView } from "../../lib/packet/tcp.ts";
import {
  emitGeneve,
  geneveBufferLen,
  geneveRepr,
  GeneveView,
  parseGeneve,
} from "../../lib/packet/geneve.ts";
import {
  emitNdp,
  ndpBufferLen,
  type NdpOptionRepr,
  ndpOptionsRepr,
  NdpView,
  parseNdp,
} from "../../lib/packet/ndp.ts";

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

interface Level {
  vlan: number | null;
  six: boolean;
  src: Uint8Array;
  dst: Uint8Array;
  ext: ("hopByHop" | "destination" | "routing")[];
  l4: "tcp" | "udp" | "echo";
  sport: number;
  dport: number;
  flags: number;
  mss: number | null;
  payload: Uint8Array;
}

const levelArb = (six: boolean): fc.Arbitrary<Level> =>
  fc.record({
    vlan: fc.option(fc.integer({ min: 0, max: 4095 })),
    six: fc.constant(six),
    src: bytes(six ? 16 : 4),
    dst: bytes(six ? 16 : 4),
    ext: six
      ? fc.array(fc.constantFrom("destination", "routing") as fc.Arbitrary<"destination">, {
        maxLength: 3,
      }).chain((xs) => fc.boolean().map((h) => (h ? ["hopByHop" as const, ...xs] : xs)))
      : fc.constant([]),
    l4: fc.constantFrom("tcp", "udp", "echo") as fc.Arbitrary<"tcp" | "udp" | "echo">,
    sport: u16,
    dport: u16.filter((p) => p !== 6081),
    flags: fc.integer({ min: 0, max: 255 }),
    mss: fc.option(u16),
    payload: fc.uint8Array({ maxLength: 64 }),
  });

function layersOf(l: Level): LayerSpec[] {
  const eth: LayerSpec = {
    type: "ethernet",
    src: "a8:40:25:00:00:01",
    dst: "a8:40:25:00:00:02",
    ...(l.vlan !== null ? { vlan: l.vlan } : {}),
  };
  const ip: LayerSpec = l.six
    ? { type: "ipv6", src: l.src, dst: l.dst, extHeaders: l.ext.map((type) => ({ type })) }
    : { type: "ipv4", src: l.src, dst: l.dst };
  const l4: LayerSpec = l.l4 === "tcp"
    ? {
      type: "tcp",
      srcPort: l.sport,
      dstPort: l.dport,
      flags: l.flags,
      ...(l.mss !== null ? { mss: l.mss } : {}),
    }
    : l.l4 === "udp"
    ? { type: "udp", srcPort: l.sport, dstPort: l.dport }
    : l.six
    ? { type: "icmpv6", kind: "echoRequest", id: l.sport, seq: l.dport }
    : { type: "icmpv4", kind: "echoRequest", id: l.sport, seq: l.dport };
  return [eth, ip, l4, { type: "payload", data: l.payload }];
}

function checkLevel(f: Uint8Array, lv: HeaderLevel, l: Level, end: number) {
  assert.equal(lv.vlan, l.vlan ?? -1);
  assert.equal(lv.ipVersion, l.six ? 6 : 4);
  assert.deepEqual(f.slice(lv.l3 + (l.six ? 8 : 12), lv.l3 + (l.six ? 24 : 16)), l.src);
  assert.deepEqual(f.slice(lv.l3 + (l.six ? 24 : 16), lv.l3 + (l.six ? 40 : 20)), l.dst);
  assert.equal(lv.proto, l.l4 === "tcp" ? 6 : l.l4 === "udp" ? 17 : l.six ? 58 : 1);
  assert.equal(lv.srcPort, l.sport);
  assert.equal(lv.dstPort, l.l4 === "echo" ? l.sport : l.dport);
  if (l.l4 === "tcp") assert.equal(lv.tcpFlags, l.flags);
  assert.equal(lv.ipEnd, end);
  assert.deepEqual(f.slice(lv.payload, lv.ipEnd), l.payload);
  if (!l.six) assert.ok(verifyIpv4Header(f, lv.l3));
  const fl = new FlowId();
  assert.ok(flowOf(f, lv, fl));
  assert.equal(fl.srcPort, lv.srcPort);
  assert.equal(fl.dstPort, lv.dstPort);
}

Deno.test("property: build → parse round-trips plain and Geneve-encapsulated packets", () => {
  const meta = new PacketMeta();
  fc.assert(fc.property(
    fc.boolean().chain((s) => levelArb(s)),
    fc.option(fc.tuple(fc.integer({ min: 0, max: 0xffffff }), fc.boolean().chain(levelArb))),
    (outer, enc) => {
      let f: Uint8Array;
      if (enc === null) f = buildFrame(layersOf(outer));
      else {
        const [vni, inner] = enc;
        const o = layersOf({ ...outer, l4: "udp" }).slice(0, 2);
        f = buildFrame([...o, { type: "udp", srcPort: outer.sport }, {
          type: "geneve",
          vni,
        }, ...layersOf(inner)]);
      }
      assert.equal(parseFrame(f, 0, f.length, meta), null);
      if (enc === null) {
        assert.equal(meta.encap, false);
        checkLevel(f, meta.outer, outer, f.length);
        assert.ok(verifyL4Checksum(f, meta.outer));
      } else {
        assert.equal(meta.encap, true);
        assert.equal(meta.vni, enc[0]);
        assert.equal(meta.outer.dstPort, 6081);
        checkLevel(f, meta.inner, enc[1], f.length);
        assert.ok(verifyL4Checksum(f, meta.inner));
        assert.ok(verifyL4Checksum(f, meta.outer));
      }
    },
  ));
});

function assertSane(meta: PacketMeta, start: number, end: number) {
  for (const lv of meta.encap ? [meta.outer, meta.inner] : [meta.outer]) {
    const inside = (x: number) => x === -1 || (x >= start && x <= end);
    for (const x of [lv.ether, lv.l3, lv.ipEnd, lv.l4, lv.payload]) assert.ok(inside(x), `${x}`);
    if (lv.ipVersion !== 0) assert.ok(lv.l3 < lv.ipEnd);
    if (lv.l4 >= 0) assert.ok(lv.l3 < lv.l4 && lv.l4 < lv.payload && lv.payload <= lv.ipEnd);
  }
}

Deno.test("property: arbitrary bytes never throw and never escape the frame", () => {
  const meta = new PacketMeta();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(16), (junk, start) => {
      const buf = new Uint8Array(start + junk.length);
      buf.set(junk, start);
      const e = parseFrame(buf, start, junk.length, meta);
      if (e === null) assertSane(meta, start, buf.length);
      else {
        assert.ok(isParseError(e));
        assert.ok(e.offset >= start && e.offset <= buf.length);
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: mutated and truncated valid frames never throw", () => {
  const meta = new PacketMeta();
  fc.assert(
    fc.property(
      fc.boolean().chain(levelArb),
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (l, encap, muts, cut) => {
        const layers = layersOf(l);
        const f = encap
          ? buildFrame([...layersOf(l).slice(0, 2), { type: "udp", checksum: "zero" }, {
            type: "geneve",
            vni: 1,
            options: [{ class: 0x129, type: 2, data: new Uint8Array(4) }],
          }, ...layers])
          : buildFrame(layers);
        for (const [i, v] of muts) f[i % f.length] = v;
        const len = cut % (f.length + 1);
        const e = parseFrame(f, 0, len, meta);
        if (e === null) assertSane(meta, 0, len);
        else assert.ok(e.offset >= 0 && e.offset <= len, JSON.stringify(e));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("property: Repr emit → parse → Repr round-trips (IPv4, TCP, Geneve, NDP)", () => {
  fc.assert(fc.property(
    bytes(4),
    bytes(4),
    fc.record({
      proto: fc.nat(255),
      ttl: fc.nat(255),
      tos: fc.nat(255),
      ident: u16,
      dontFragment: fc.boolean(),
      moreFragments: fc.boolean(),
      fragOffset: fc.nat(0x1fff).map((x) => x * 8),
      payloadLen: fc.nat(100),
    }),
    fc.uint8Array({ maxLength: 40 }).map((o) => o.subarray(0, o.length & ~3)),
    (src, dst, r, options) => {
      const repr = { src, dst, ...r, options };
      const b = new Uint8Array(ipv4BufferLen(repr) + r.payloadLen);
      emitIpv4(repr, b, 0);
      assert.deepEqual(ipv4Repr(parseIpv4(b, 0, b.length) as Ipv4View), repr);
    },
  ));
  fc.assert(fc.property(
    fc.record({
      srcPort: u16,
      dstPort: u16,
      seq: u32,
      ack: u32,
      flags: fc.nat(255),
      window: u16,
      urgent: u16,
      mss: u16,
    }),
    (r) => {
      const b = new Uint8Array(tcpBufferLen(r));
      emitTcp(r, b, 0);
      assert.deepEqual(tcpRepr(parseTcp(b, 0, b.length) as TcpView), structuredClone(r));
    },
  ));
  const opt = fc.record({
    class: u16,
    type: fc.nat(127),
    critical: fc.boolean(),
    data: fc.nat(31).map((n) => new Uint8Array(n * 4).fill(n)),
  });
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 0xffffff }),
    fc.array(opt, { maxLength: 4 }).filter((os) =>
      os.reduce((n, o) => n + 4 + o.data.length, 0) <= 63 * 4
    ),
    fc.boolean(),
    (vni, options, oam) => {
      const r = { vni, options, oam };
      const b = new Uint8Array(geneveBufferLen(r));
      emitGeneve(r, b, 0);
      assert.deepEqual(geneveRepr(parseGeneve(b, 0, b.length) as GeneveView), {
        ...structuredClone(r),
        protocol: 0x6558,
        critical: options.some((o) => o.critical),
      });
    },
  ));
  const ndpOpt: fc.Arbitrary<NdpOptionRepr> = fc.oneof(
    bytes(6).map((mac) => ({ type: "sourceLinkAddr" as const, mac })),
    bytes(6).map((mac) => ({ type: "targetLinkAddr" as const, mac })),
    u32.map((mtu) => ({ type: "mtu" as const, mtu })),
    fc.record({
      type: fc.constant("prefixInfo" as const),
      prefix: bytes(16),
      prefixLen: fc.nat(128),
      onLink: fc.boolean(),
      autonomous: fc.boolean(),
      validLifetime: u32,
      preferredLifetime: u32,
    }),
    fc.record({
      type: fc.constant("rdnss" as const),
      lifetime: u32,
      servers: fc.array(bytes(16), { minLength: 1, maxLength: 3 }),
    }),
  );
  fc.assert(fc.property(fc.array(ndpOpt, { maxLength: 5 }), bytes(16), (options, target) => {
    const r = { kind: "ns" as const, target, options };
    const b = new Uint8Array(ndpBufferLen(r));
    emitNdp(r, b, 0);
    const v = parseNdp(b, 0, b.length) as NdpView;
    assert.deepEqual(v.target, target);
    assert.deepEqual(ndpOptionsRepr(v), structuredClone(options));
  }));
});
