import assert from "node:assert/strict";
import * as fc from "fast-check";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { finish, fold, pseudoSumV4, pseudoSumV6, sum16 } from "../../lib/packet/checksum.ts";
import {
  A,
  applyPlan,
  CompiledPlan,
  compilePlan,
  DIR_IN,
  DIR_OUT,
  flowOfLevel,
  hasPorts,
  type HeaderTransform,
  Layer,
  type Packet,
  replayList,
  RES_MODIFIED,
} from "../../lib/engine/mod.ts";
import { flowText, mkPort, pkt, reparse, tcp, udp } from "./helpers.ts";

const u8 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** Outer Ethernet/IPv6/UDP/Geneve header bytes (lengths are patched by the engine). */
function geneveHeader(vni: number, srcPort = 0x8123, zeroCsum = true): Uint8Array {
  return buildFrame([
    { type: "ethernet", src: "a8:40:25:00:00:aa", dst: "a8:40:25:00:00:bb" },
    { type: "ipv6", src: "fd00:1::1", dst: "fd00:2::1", hopLimit: 64 },
    { type: "udp", srcPort, dstPort: 6081, ...(zeroCsum ? { checksum: "zero" as const } : {}) },
    { type: "geneve", vni },
  ]);
}

const arbPacket = fc.record({
  v6: fc.boolean(),
  proto: fc.constantFrom("tcp", "udp", "icmp", "udpzero"),
  src: u8(16),
  dst: u8(16),
  sport: fc.integer({ min: 1, max: 65535 }),
  dport: fc.integer({ min: 1, max: 65535 }),
  data: fc.integer({ min: 0, max: 200 }),
});

type ArbPkt = {
  v6: boolean;
  proto: string;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  data: number;
};

function build(p: ArbPkt): LayerSpec[] {
  const src = p.v6 ? p.src : p.src.slice(0, 4), dst = p.v6 ? p.dst : p.dst.slice(0, 4);
  const specs: LayerSpec[] = [
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
    p.v6 ? { type: "ipv6", src, dst } : { type: "ipv4", src, dst },
  ];
  if (p.proto === "tcp") {
    specs.push({ type: "tcp", srcPort: p.sport, dstPort: p.dport, flags: "A", seq: 7, ack: 9 });
  } else if (p.proto === "icmp") {
    specs.push(
      p.v6
        ? { type: "icmpv6", kind: "echoRequest", id: p.sport, seq: 1 }
        : { type: "icmpv4", kind: "echoRequest", id: p.sport, seq: 1 },
    );
  } else {
    specs.push({
      type: "udp",
      srcPort: p.sport,
      dstPort: p.dport === 6081 ? 6082 : p.dport,
      ...(p.proto === "udpzero" && !p.v6 ? { checksum: "zero" as const } : {}),
    });
  }
  specs.push({ type: "payload", data: new Uint8Array(p.data).fill(0x5a) });
  return specs;
}

const arbTransform = (v6: boolean) =>
  fc.record({
    innerEther: fc.option(
      fc.record({
        src: fc.option(u8(6), { nil: undefined }),
        dst: fc.option(u8(6), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    innerIp: fc.option(
      fc.record({
        src: fc.option(u8(v6 ? 16 : 4), { nil: undefined }),
        dst: fc.option(u8(v6 ? 16 : 4), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    innerUlp: fc.option(
      fc.record({
        srcPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        dstPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
  }) as fc.Arbitrary<HeaderTransform>;

function twin(specs: LayerSpec[]): [Packet, Packet] {
  return [pkt(specs), pkt(specs)];
}

function flowOf(p: Packet): FlowId {
  const f = new FlowId();
  flowOfLevel(p.buf, p.meta.flow, f);
  return f;
}

const SCRATCH = new CompiledPlan();

Deno.test("compiled plan and replayed list give byte-identical frames (generated packets)", () => {
  fc.assert(
    fc.property(
      arbPacket.chain((p) =>
        fc.record({
          p: fc.constant(p as ArbPkt),
          list: fc.array(arbTransform(p.v6), { minLength: 1, maxLength: 4 }),
          push: fc.boolean(),
          udpCsum: fc.boolean(),
          // Per-flow entropy over the pushed header (-1: none): the UFT entry hands it over.
          srcPort: fc.integer({ min: -1, max: 65535 }),
          flowLabel: fc.integer({ min: -1, max: 0xfffff }),
        })
      ),
      ({ p, list, push, udpCsum, srcPort, flowLabel }) => {
        const specs = build(p);
        const [a, b] = twin(specs);
        const xs: HeaderTransform[] = [...list];
        if (push) {
          const bytes = geneveHeader(5, 4000, !udpCsum);
          const entropy = {
            ...(srcPort >= 0 ? { srcPort } : {}),
            ...(flowLabel >= 0 ? { flowLabel } : {}),
          };
          xs.push({ outer: { op: "push", bytes, ...entropy } });
        }
        const plan = compilePlan(xs, flowOf(a), hasPorts(a.meta.flow), a.meta.encap);
        assert.ok(plan !== null, "a modify*+push list compiles");
        // Compiled into a scratch plan that held the previous run's (flow setup reuses one):
        // nothing of the old plan may survive.
        const again = compilePlan(xs, flowOf(a), hasPorts(a.meta.flow), a.meta.encap, SCRATCH);
        assert.deepEqual({ ...again }, { ...plan });
        assert.equal(replayList(a, xs), null);
        assert.equal(applyPlan(b, plan, push ? srcPort : -1, push ? flowLabel : -1), null);
        assert.deepEqual(b.bytes(), a.bytes());
        if (push) {
          // Outer IPv6 at 14 (version 6, traffic class 0 kept), outer UDP at 54.
          const o = b.bytes();
          const label = ((o[15] & 0x0f) << 16) | (o[16] << 8) | o[17];
          assert.equal(o[14], 0x60);
          assert.equal(o[15] >> 4, 0);
          assert.equal(label, flowLabel >= 0 ? flowLabel : 0);
          assert.equal((o[54] << 8) | o[55], srcPort >= 0 ? srcPort : 4000);
        }
        assert.equal(b.off, a.off);
        reparse(a);
        reparse(b);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("decap plan: popping the outer headers and rewriting the inner frame", () => {
  fc.assert(
    fc.property(
      arbPacket.chain((p) => fc.record({ p: fc.constant(p as ArbPkt), t: arbTransform(p.v6) })),
      ({ p, t }) => {
        const inner = build(p);
        const specs: LayerSpec[] = [
          { type: "ethernet", src: "a8:40:25:00:00:bb", dst: "a8:40:25:00:00:aa" },
          { type: "ipv6", src: "fd00:2::1", dst: "fd00:1::1" },
          { type: "udp", srcPort: 5555, dstPort: 6081, checksum: "zero" },
          {
            type: "geneve",
            vni: 10,
            options: [{ class: 0x0129, type: 0, data: new Uint8Array(0) }],
          },
          ...inner,
        ];
        const [a, b] = twin(specs);
        assert.ok(a.meta.encap);
        const xs: HeaderTransform[] = [{ outer: { op: "pop" } }, t];
        const plan = compilePlan(xs, flowOf(a), hasPorts(a.meta.flow), true)!;
        assert.ok(plan.pop);
        assert.equal(replayList(a, xs), null);
        assert.equal(applyPlan(b, plan), null);
        assert.deepEqual(b.bytes(), a.bytes());
        const direct = pkt(inner);
        assert.equal(a.len, direct.len);
        reparse(b);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("a scratch plan compiled again keeps nothing of its previous plan", () => {
  // Every field set: decap, all inner rewrites, push (UDP and ICMP echo, whose id moves the
  // port offsets); then lists that set none of them.
  const inner = (icmp: boolean): LayerSpec[] => [
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:00:00:02" },
    { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.2" },
    icmp
      ? { type: "icmpv4", kind: "echoRequest", id: 7, seq: 1 }
      : { type: "udp", srcPort: 1000, dstPort: 2000 },
  ];
  const full: HeaderTransform[] = [{ outer: { op: "pop" } }, {
    innerEther: { src: new Uint8Array(6).fill(1), dst: new Uint8Array(6).fill(2) },
    innerIp: { src: Uint8Array.of(1, 2, 3, 4), dst: Uint8Array.of(5, 6, 7, 8) },
    innerUlp: { srcPort: 11, dstPort: 12 },
  }, { outer: { op: "push", bytes: geneveHeader(3) } }];
  const scratch = new CompiledPlan();
  for (const icmp of [false, true]) {
    const encap = pkt([
      { type: "ethernet", src: "a8:40:25:00:00:bb", dst: "a8:40:25:00:00:aa" },
      { type: "ipv6", src: "fd00:2::1", dst: "fd00:1::1" },
      { type: "udp", srcPort: 5555, dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni: 10 },
      ...inner(icmp),
    ]);
    const f = flowOf(encap);
    assert.ok(compilePlan(full, f, true, true, scratch)?.pop);
    const plain = pkt(inner(icmp)), g = flowOf(plain);
    for (const list of [[], [{ innerUlp: { dstPort: 9 } }]] as HeaderTransform[][]) {
      const again = compilePlan(list, g, true, false, scratch);
      assert.deepEqual({ ...again }, { ...compilePlan(list, g, true, false) });
    }
  }
});

Deno.test("lists the plan cannot express fall back to replay, which still works", () => {
  const a = udp("10.0.0.5:1", "10.0.0.6:2");
  const f = flowOf(a);
  const push = { outer: { op: "push", bytes: geneveHeader(1) } } as HeaderTransform;
  assert.equal(compilePlan([push, push], f, true, false), null);
  assert.equal(compilePlan([push, { outer: { op: "pop" } }], f, true, false), null);
  const live = { outer: { op: "push", bytes: geneveHeader(1, 9, false) } } as HeaderTransform;
  const rewrite: HeaderTransform = { innerUlp: { dstPort: 99 } };
  assert.equal(compilePlan([live, rewrite], f, true, false), null);
  // Through a port: the entry replays the list and the output keeps a correct outer checksum.
  const { port } = mkPort([
    new Layer({ name: "enc", rules: { out: [{ priority: 1, action: A.transform(live) }] } }),
    new Layer({ name: "late", rules: { out: [{ priority: 1, action: A.transform(rewrite) }] } }),
  ]);
  for (let i = 0; i < 2; i++) {
    const p = udp("10.0.0.5:1", "10.0.0.6:2");
    assert.equal(port.process(DIR_OUT, p), RES_MODIFIED);
    assert.equal(port.result.fastPath, i === 1);
    assert.equal(flowText(p), "UDP 10.0.0.5:1 -> 10.0.0.6:99");
    reparse(p);
  }
  assert.equal(port.stats.uftReplay, 1);
});

Deno.test("overlay encap out and decap in through a port, fast path included", () => {
  const hdr = geneveHeader(77);
  const overlay = new Layer({
    name: "overlay",
    rules: {
      out: [{
        priority: 1,
        action: A.transform({ name: "encap", outer: { op: "push", bytes: hdr } }),
      }],
      in: [{ priority: 1, action: A.transform({ name: "decap", outer: { op: "pop" } }) }],
    },
  });
  const { port } = mkPort([overlay]);
  for (let i = 0; i < 2; i++) {
    const p = tcp("10.0.0.5:4000", "10.0.0.7:80", "S", { data: i * 10 });
    const original = p.bytes();
    assert.equal(port.process(DIR_OUT, p), RES_MODIFIED);
    assert.equal(port.result.fastPath, i === 1);
    assert.equal(p.len, original.length + hdr.length);
    const m = reparse(p);
    assert.ok(m.encap);
    assert.equal(m.vni, 77);
    assert.deepEqual(p.bytes().subarray(hdr.length), original);
    // Outer lengths were patched: IPv6 payload length and UDP length.
    const out = p.bytes();
    assert.equal((out[18] << 8) | out[19], out.length - 54);
    assert.equal((out[58] << 8) | out[59], out.length - 54);
  }
  for (let i = 0; i < 2; i++) {
    const inner = [
      { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "a8:40:25:00:00:01" },
      { type: "ipv4", src: "10.0.0.7", dst: "10.0.0.5" },
      { type: "tcp", srcPort: 80, dstPort: 4000, flags: "SA" },
    ] as LayerSpec[];
    const p = pkt([
      { type: "ethernet", src: "a8:40:25:00:00:bb", dst: "a8:40:25:00:00:aa" },
      { type: "ipv6", src: "fd00:2::1", dst: "fd00:1::1" },
      { type: "udp", srcPort: 5555, dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni: 77 },
      ...inner,
    ]);
    assert.equal(port.process(DIR_IN, p), RES_MODIFIED);
    assert.equal(port.result.fastPath, i === 1);
    assert.deepEqual(p.bytes(), buildFrame(inner));
    assert.equal(p.meta.encap, false);
    reparse(p);
  }
  // Too little headroom is an error result, not an exception.
  const tight = buildFrame([
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.9" },
    { type: "udp", srcPort: 1, dstPort: 2 },
  ]);
  const p = pkt(tight);
  p.off = 0;
  p.buf = tight;
  p.meta.start = 0;
  p.meta.outer.l3 -= 128;
  p.meta.outer.l4 -= 128;
  p.meta.outer.payload -= 128;
  p.meta.outer.ipEnd -= 128;
  p.meta.outer.ether = 0;
  assert.equal(port.process(DIR_OUT, p), 3);
  assert.equal(port.result.reason, "no headroom for encap");
  void DIR_IN;
});

Deno.test("a body transform runs on the slow path and on replay from the UFT", () => {
  let calls = 0;
  const mark: HeaderTransform = {
    name: "mark",
    body: {
      name: "mark payload",
      apply: (p) => {
        calls++;
        p.buf[p.meta.flow.payload] = 0xee;
        return null;
      },
    },
  };
  const { port } = mkPort([
    new Layer({ name: "b", rules: { out: [{ priority: 1, action: A.transform(mark) }] } }),
  ]);
  for (let i = 0; i < 2; i++) {
    const p = udp("10.0.0.5:1", "10.0.0.6:2");
    assert.equal(port.process(DIR_OUT, p), RES_MODIFIED);
    assert.equal(port.result.fastPath, i === 1);
    assert.equal(p.buf[p.meta.flow.payload], 0xee);
  }
  assert.equal(calls, 2);
  assert.equal(port.stats.uftReplay, 1);
});

/** Turns a packet's TCP/UDP checksum into a CHECKSUM_PARTIAL pseudo-header sum. */
function makePartial(p: Packet): void {
  const lv = p.meta.flow;
  const l4len = lv.ipEnd - lv.l4;
  const s = lv.ipVersion === 4
    ? pseudoSumV4(p.buf, lv.l3, lv.proto, l4len)
    : pseudoSumV6(p.buf, lv.l3, lv.proto, l4len);
  const at = lv.l4 + (lv.proto === 6 ? 16 : 6);
  const f = fold(s);
  p.buf[at] = f >> 8;
  p.buf[at + 1] = f;
  p.csumPartial = true;
}

/** What the device does with a partial checksum: sum from the L4 header to the end, complement. */
function complete(p: Packet): void {
  const lv = p.meta.flow;
  const at = lv.l4 + (lv.proto === 6 ? 16 : 6);
  const c = finish(sum16(p.buf, lv.l4, lv.ipEnd - lv.l4));
  p.buf[at] = c >> 8;
  p.buf[at + 1] = c;
}

Deno.test("CHECKSUM_PARTIAL packets: plan and replay agree and the completed checksum is right", () => {
  fc.assert(
    fc.property(
      arbPacket.filter((p) => p.proto !== "icmp" && p.proto !== "udpzero").chain((p) =>
        fc.record({
          p: fc.constant(p as ArbPkt),
          list: fc.array(arbTransform(p.v6), { minLength: 1, maxLength: 3 }),
        })
      ),
      ({ p, list }) => {
        const [a, b] = twin(build(p));
        makePartial(a);
        makePartial(b);
        const plan = compilePlan(list, flowOf(a), hasPorts(a.meta.flow), false)!;
        assert.equal(replayList(a, list), null);
        assert.equal(applyPlan(b, plan), null);
        assert.deepEqual(b.bytes(), a.bytes());
        complete(a);
        reparse(a);
      },
    ),
    { numRuns: 300 },
  );
});
