import assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  A,
  ActionMeta,
  DIR_OUT,
  Layer,
  type Predicate,
  RES_DROP,
  RES_MODIFIED,
  RuleTable,
} from "../../lib/engine/mod.ts";
import type { Packet } from "../../lib/engine/packet.ts";
import { MAC_GUEST, mkPort, pkt, tcp, udp } from "./helpers.ts";

const V4 = ["10.0.0.5", "10.0.0.6", "10.0.1.7", "192.168.1.1"];
const V6 = ["fd00::5", "fd00::6", "fd00:1::7", "fe80::1"];

const cidr = fc.oneof(
  fc.tuple(fc.constantFrom(...V4), fc.constantFrom(0, 8, 16, 24, 31, 32, -1)).map(([a, n]) =>
    n < 0 ? a : `${a}/${n}`
  ),
  fc.tuple(fc.constantFrom(...V6), fc.constantFrom(0, 16, 64, 127, 128, -1)).map(([a, n]) =>
    n < 0 ? a : `${a}/${n}`
  ),
);
const port = fc.integer({ min: 1, max: 5 });
const portMatch = fc.oneof(
  port,
  fc.tuple(port, port).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
  // Wider than the index expands: such predicates must leave the rule findable some other way.
  fc.constant([1, 5000] as const),
);
const leaf: fc.Arbitrary<Predicate> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("ipSrc" as const, "ipDst" as const),
    cidrs: fc.array(cidr, { maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constantFrom("srcPort" as const, "dstPort" as const),
    ports: fc.array(portMatch, { maxLength: 2 }),
  }),
  fc.record({
    kind: fc.constant("ipProto" as const),
    values: fc.array(fc.constantFrom(1, 6, 17, 58), { maxLength: 2 }),
  }),
  fc.record({
    kind: fc.constant("ipVersion" as const),
    version: fc.constantFrom(4 as const, 6 as const),
  }),
  fc.record({ kind: fc.constant("icmpType" as const), values: fc.constant([8, 128]) }),
  fc.record({
    kind: fc.constant("meta" as const),
    key: fc.constant("route"),
    value: fc.constantFrom("igw", "vpc"),
  }),
  fc.record({ kind: fc.constant("etherType" as const), values: fc.constant([0x0806]) }),
);
const pred: fc.Arbitrary<Predicate> = fc.oneof(
  { weight: 6, arbitrary: leaf },
  {
    weight: 1,
    arbitrary: fc.array(leaf, { maxLength: 3 }).map((preds) => ({ kind: "all" as const, preds })),
  },
  {
    weight: 1,
    arbitrary: fc.array(leaf, { maxLength: 2 }).map((preds) => ({ kind: "any" as const, preds })),
  },
  { weight: 1, arbitrary: leaf.map((p) => ({ kind: "not" as const, pred: p })) },
);
const ruleArb = fc.record({
  priority: fc.integer({ min: 0, max: 4 }),
  deny: fc.boolean(),
  preds: fc.array(pred, { maxLength: 3 }),
});

const packetArb = fc.record({
  v6: fc.boolean(),
  proto: fc.constantFrom("tcp", "udp", "icmp", "arp"),
  s: fc.integer({ min: 0, max: 3 }),
  d: fc.integer({ min: 0, max: 3 }),
  sp: port,
  dp: port,
  route: fc.constantFrom("igw", "vpc", ""),
});

function makePacket(
  p: { v6: boolean; proto: string; s: number; d: number; sp: number; dp: number },
): Packet {
  const as = p.v6 ? V6 : V4;
  const [src, dst] = [as[p.s], as[p.d]];
  const hp = (a: string, n: number) => p.v6 ? `[${a}]:${n}` : `${a}:${n}`;
  if (p.proto === "arp") {
    return pkt([
      { type: "ethernet", src: MAC_GUEST, dst: "ff:ff:ff:ff:ff:ff" },
      { type: "arp", senderMac: MAC_GUEST, senderIp: V4[p.s], targetIp: V4[p.d] },
    ]);
  }
  if (p.proto === "icmp") {
    return pkt([
      { type: "ethernet", src: MAC_GUEST, dst: "a8:40:25:ff:77:77" },
      p.v6 ? { type: "ipv6", src, dst } : { type: "ipv4", src, dst },
      p.v6
        ? { type: "icmpv6", kind: "echoRequest", id: p.sp, seq: 1 }
        : { type: "icmpv4", kind: "echoRequest", id: p.sp, seq: 1 },
    ]);
  }
  return p.proto === "tcp"
    ? tcp(hp(src, p.sp), hp(dst, p.dp), "S")
    : udp(hp(src, p.sp), hp(dst, p.dp));
}

/** The rule a plain first-match scan over the evaluation order finds. */
function naive(t: RuleTable, pk: Packet, am: ActionMeta): number {
  return t.list.find((r) => r.match(pk, am))?.id ?? -1;
}

Deno.test("indexed lookup finds the same rule as a linear scan (generated rule sets and packets)", () => {
  fc.assert(
    fc.property(
      fc.array(ruleArb, { maxLength: 40 }),
      fc.array(packetArb, { minLength: 1, maxLength: 8 }),
      (rules, pks) => {
        const indexed = new RuleTable({ indexMin: 0 });
        const linear = new RuleTable({ indexMin: Infinity });
        for (const r of rules) {
          const spec = {
            priority: r.priority,
            predicates: r.preds,
            action: r.deny ? A.deny() : A.allow,
          };
          indexed.add(spec);
          linear.add(spec);
        }
        assert.ok(indexed.index().indexed && !linear.index().indexed);
        for (const p of pks) {
          const pk = makePacket(p);
          const am = new ActionMeta();
          if (p.route) am.set("route", p.route);
          const want = naive(indexed, pk, am);
          assert.equal(indexed.find(pk, am)?.id ?? -1, want);
          // Ids differ between the tables; ranks (positions in evaluation order) must agree.
          const li = linear.find(pk, am);
          const wi = indexed.list.findIndex((r) => r.id === want);
          assert.equal(li === null ? -1 : linear.list.indexOf(li), wi);
        }
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("adds and removes keep the index consistent with the rule list", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(ruleArb, fc.boolean()), { maxLength: 30 }),
      packetArb,
      (ops, p) => {
        const t = new RuleTable({ indexMin: 0 });
        const pk = makePacket(p);
        const am = new ActionMeta();
        const ids: number[] = [];
        for (const [r, removeOne] of ops) {
          ids.push(
            t.add({
              priority: r.priority,
              predicates: r.preds,
              action: r.deny ? A.deny() : A.allow,
            }),
          );
          // Look up between changes too, so a stale index would be used if one survived.
          assert.equal(t.find(pk, am)?.id ?? -1, naive(t, pk, am));
          if (removeOne && ids.length > 0) {
            assert.ok(t.remove(ids.splice(r.priority % ids.length, 1)[0]));
          }
          assert.equal(t.find(pk, am)?.id ?? -1, naive(t, pk, am));
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("removing a rule realigns the prefilter (a later rule's constraints stay its own)", () => {
  for (const indexMin of [0, Infinity]) {
    const t = new RuleTable({ indexMin });
    const first = t.add({
      priority: 1,
      predicates: [{ kind: "dstPort", ports: [53] }],
      action: A.allow,
    });
    const any = t.add({ priority: 2, action: A.allow });
    const am = new ActionMeta();
    const p = udp("10.0.0.1:1000", "10.0.0.2:80");
    assert.equal(t.find(p, am)?.id, any);
    assert.ok(t.remove(first));
    // Rank 0 now holds the unconstrained rule; the port-53 prefilter must not follow it there.
    assert.equal(t.find(p, am)?.id, any);
  }
});

Deno.test("1,000 host routes: a lookup visits one bucket, not the table", () => {
  const t = new RuleTable();
  const ids: number[] = [];
  for (let i = 0; i < 1000; i++) {
    ids.push(t.add({
      priority: 100 + i,
      predicates: [{ kind: "ipDst", cidrs: [`172.16.${i >> 8}.${i & 255}`] }, {
        kind: "dstPort",
        ports: [443],
      }],
      action: A.allow,
    }));
  }
  const catchAll = t.add({
    priority: 60000,
    predicates: [{ kind: "dstPort", ports: [443] }],
    action: A.deny("end"),
  });
  const ix = t.index();
  assert.ok(ix.indexed);
  const am = new ActionMeta();
  const hit = udp("10.0.0.5:4000", "172.16.2.7:443");
  assert.equal(t.find(hit, am)?.id, ids[2 * 256 + 7]);
  // Filed by destination (rules sharing port 443 are many): the /32 bucket plus the catch-all.
  assert.deepEqual(ix.candidates(hit.buf, hit.meta.flow), [2 * 256 + 7, 1000]);
  const miss = udp("10.0.0.5:4000", "10.0.0.6:443");
  assert.equal(t.find(miss, am)?.id, catchAll);
  assert.deepEqual(ix.candidates(miss.buf, miss.meta.flow), [1000]);
  assert.equal(t.find(udp("10.0.0.5:4000", "172.16.2.7:80"), am), null);
});

Deno.test("rules differing only by port are filed by port; /0 and unindexable rules are always visited", () => {
  const t = new RuleTable({ indexMin: 0 });
  for (let p = 1000; p < 1100; p++) {
    t.add({
      priority: 10,
      predicates: [{ kind: "ipDst", cidrs: ["10.0.0.0/8"] }, { kind: "dstPort", ports: [p] }],
      action: A.allow,
    });
  }
  t.add({
    priority: 20,
    predicates: [{ kind: "ipSrc", cidrs: ["0.0.0.0/0", "::/0"] }],
    action: A.deny(),
  });
  t.add({
    priority: 30,
    predicates: [{ kind: "not", pred: { kind: "ipProto", values: [6] } }],
    action: A.deny(),
  });
  const ix = t.index();
  const p = tcp("10.1.1.1:5", "10.2.2.2:1042", "S");
  const c = ix.candidates(p.buf, p.meta.flow);
  assert.equal(c.length, 3);
  assert.equal(t.list[c[0]].spec.predicates![1].kind, "dstPort");
  assert.deepEqual(t.list[c[0]].spec.predicates![1], { kind: "dstPort", ports: [1042] });
  assert.equal(t.find(p, new ActionMeta())?.id, t.list[c[0]].id);
});

Deno.test("through a port: index order semantics (priority, deny first, newest first) with many rules", () => {
  const l = new Layer({ name: "fw" });
  const { port } = mkPort([l]);
  for (let i = 0; i < 200; i++) {
    port.addRule("fw", DIR_OUT, {
      priority: 500,
      predicates: [{ kind: "ipDst", cidrs: [`192.168.${i}.0/24`] }],
      action: A.allow,
    });
  }
  const older = port.addRule("fw", DIR_OUT, {
    priority: 100,
    predicates: [{ kind: "dstPort", ports: [22] }],
    action: A.allow,
  });
  const deny = port.addRule("fw", DIR_OUT, {
    priority: 100,
    predicates: [{ kind: "ipDst", cidrs: ["192.168.7.7"] }],
    action: A.deny("blocked"),
  });
  const newer = port.addRule("fw", DIR_OUT, {
    priority: 100,
    predicates: [{ kind: "ipProto", values: [6] }],
    action: A.allow,
  });
  assert.ok(l.rules[DIR_OUT].index().indexed);
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:1", "192.168.7.7:22", "S")), RES_DROP);
  assert.equal(port.result.rule, deny);
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:1", "192.168.7.8:22", "S")), RES_MODIFIED);
  const hits = (id: number) => l.rules[DIR_OUT].list.find((r) => r.id === id)!.hits;
  assert.equal(hits(newer), 1);
  assert.equal(hits(older), 0);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "192.168.7.8:22")), RES_MODIFIED);
  assert.equal(hits(older), 1);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "192.168.9.1:80")), RES_MODIFIED);
  assert.equal(
    l.rules[DIR_OUT].list.find((r) =>
      r.spec.predicates?.[0].kind === "ipDst" &&
      r.spec.predicates[0].cidrs[0] === "192.168.9.0/24"
    )!.hits,
    1,
  );
});

Deno.test("rule changes are indexed lazily, or at once by port.prepare()", () => {
  const l = new Layer({ name: "fw" });
  const { port } = mkPort([l]);
  const t = l.rules[DIR_OUT];
  const before = t.index();
  port.addRule("fw", DIR_OUT, { priority: 1, action: A.deny("x") });
  port.addRule("fw", DIR_OUT, { priority: 2, action: A.allow });
  port.prepare();
  const built = t.index();
  assert.notEqual(built, before);
  assert.equal(built.rules.length, 2);
  // Nothing changed since: no rebuild, the same structure serves lookups.
  port.prepare();
  assert.equal(t.index(), built);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:2")), RES_DROP);
  assert.equal(t.index(), built);
});
