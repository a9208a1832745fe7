import { InvalidField } from "../../lib/contract/field_error.ts";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  A,
  ActionMeta,
  compilePredicate,
  DIR_IN,
  DIR_OUT,
  Layer,
  type Predicate,
  PredicateError,
  RES_DROP,
  RES_MODIFIED,
  RuleTable,
} from "../../lib/engine/mod.ts";
import { MAC_GUEST, mkPort, pkt, tcp, udp } from "./helpers.ts";
import type { Packet } from "../../lib/engine/packet.ts";
import { emitDhcp } from "../../lib/packet/dhcp.ts";
import { parseMac } from "../../lib/packet/bytes.ts";

Deno.test("rule order: priority, then deny before allow, then newest first", () => {
  const t = new RuleTable();
  const a = t.add({ priority: 10, action: A.allow, name: "a" });
  const b = t.add({ priority: 10, action: A.deny(), name: "b" });
  const c = t.add({ priority: 10, action: A.allow, name: "c" });
  const d = t.add({ priority: 5, action: A.allow, name: "d" });
  const e = t.add({ priority: 10, action: A.deny(), name: "e" });
  const f = t.add({ priority: 65535, action: A.deny(), name: "f" });
  assert.deepEqual(t.list.map((r) => r.id), [d, e, b, c, a, f]);
  // First match wins.
  const m = new ActionMeta();
  assert.equal(t.find(udp("10.0.0.1:1", "10.0.0.2:2"), m)?.id, d);
  assert.ok(t.remove(d));
  assert.equal(t.find(udp("10.0.0.1:1", "10.0.0.2:2"), m)?.id, e);
  assert.equal(t.remove(d), false);
  assert.throws(() => t.add({ priority: 65536, action: A.allow }), RangeError);
});

Deno.test("equal-priority tie through a port: the deny wins, whichever was added first", () => {
  const l = new Layer({ name: "fw" });
  const { port } = mkPort([l]);
  const allow = port.addRule("fw", DIR_OUT, {
    priority: 100,
    predicates: [{ kind: "dstPort", ports: [443] }],
    action: A.allow,
  });
  const deny = port.addRule("fw", DIR_OUT, {
    priority: 100,
    predicates: [{ kind: "ipDst", cidrs: ["8.8.8.0/24"] }],
    action: A.deny("blocked"),
  });
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:1", "8.8.8.8:443", "S")), RES_DROP);
  assert.equal(port.result.rule, deny);
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:1", "9.9.9.9:443", "S")), RES_MODIFIED);
  assert.equal(l.rules[DIR_OUT].list.find((r) => r.id === allow)!.hits, 1);
  assert.equal(l.rules[DIR_OUT].list.find((r) => r.id === deny)!.hits, 1);
  // Among two allows at equal priority the newest is consulted first.
  const older = port.addRule("fw", DIR_IN, { priority: 7, action: A.allow });
  const newer = port.addRule("fw", DIR_IN, { priority: 7, action: A.allow });
  port.process(DIR_IN, udp("1.1.1.1:1", "10.0.0.5:2"));
  assert.equal(l.rules[DIR_IN].list.find((r) => r.id === newer)!.hits, 1);
  assert.equal(l.rules[DIR_IN].list.find((r) => r.id === older)!.hits, 0);
});

function m(p: Predicate, packet: Packet, meta = new ActionMeta()): boolean {
  return compilePredicate(p)(packet, meta);
}

Deno.test("predicates: ether, IP exact/CIDR (v4 and v6), protocol, ports, ICMP, meta, combinators", () => {
  const t4 = tcp("10.1.2.3:40000", "192.168.7.9:443", "S");
  const t6 = tcp("[fd00:1::5]:1000", "[2001:db8::1]:80", "S");
  assert.ok(m({ kind: "etherType", values: [0x0800] }, t4));
  assert.ok(!m({ kind: "etherType", values: [0x0800] }, t6));
  assert.ok(m({ kind: "etherSrc", mac: MAC_GUEST }, t4));
  assert.ok(!m({ kind: "etherDst", mac: MAC_GUEST }, t4));
  assert.ok(!m({ kind: "etherDst", multicast: true }, t4));
  const bc = udp("10.0.0.1:68", "10.0.0.2:67");
  bc.buf[bc.meta.outer.ether] = 0xff;
  assert.ok(m({ kind: "etherDst", multicast: true }, bc));
  assert.ok(m({ kind: "ipSrc", cidrs: ["10.0.0.0/8"] }, t4));
  assert.ok(m({ kind: "ipSrc", cidrs: ["10.1.2.3"] }, t4));
  assert.ok(!m({ kind: "ipSrc", cidrs: ["10.1.2.4"] }, t4));
  assert.ok(!m({ kind: "ipSrc", cidrs: ["10.1.2.4/31"] }, t4));
  assert.ok(m({ kind: "ipSrc", cidrs: ["10.1.2.2/31"] }, t4));
  assert.ok(m({ kind: "ipDst", cidrs: ["1.0.0.0/8", "192.168.0.0/16"] }, t4));
  assert.ok(m({ kind: "ipDst", cidrs: ["0.0.0.0/0"] }, t4));
  assert.ok(!m({ kind: "ipDst", cidrs: ["0.0.0.0/0"] }, t6));
  assert.ok(m({ kind: "ipDst", cidrs: ["::/0"] }, t6));
  assert.ok(m({ kind: "ipSrc", cidrs: ["fd00::/8"] }, t6));
  assert.ok(m({ kind: "ipSrc", cidrs: ["fd00:1::/64"] }, t6));
  assert.ok(!m({ kind: "ipSrc", cidrs: ["fd00:2::/64"] }, t6));
  assert.ok(m({ kind: "ipSrc", cidrs: ["fd00:1::5/127"] }, t6));
  assert.ok(m({ kind: "ipVersion", version: 6 }, t6));
  assert.ok(m({ kind: "ipProto", values: [6, 17] }, t4));
  assert.ok(!m({ kind: "ipProto", values: [17] }, t4));
  assert.ok(m({ kind: "srcPort", ports: [[40000, 40010]] }, t4));
  assert.ok(!m({ kind: "srcPort", ports: [[40001, 40010], 39999] }, t4));
  assert.ok(m({ kind: "dstPort", ports: [22, 443] }, t4));
  const ping6 = pkt([
    { type: "ethernet", src: MAC_GUEST, dst: "33:33:00:00:00:01" },
    {
      type: "ipv6",
      src: "fe80::1",
      dst: "ff02::1",
      extHeaders: [{ type: "hopByHop" }, { type: "destination" }],
    },
    { type: "icmpv6", kind: "echoRequest", id: 3, seq: 4 },
  ]);
  // The protocol is found through the IPv6 extension headers.
  assert.ok(m({ kind: "ipProto", values: [58] }, ping6));
  assert.ok(m({ kind: "icmpType", values: [128] }, ping6));
  assert.ok(m({ kind: "icmpType", values: [128], v6: true }, ping6));
  assert.ok(!m({ kind: "icmpType", values: [128], v6: false }, ping6));
  assert.ok(m({ kind: "icmpCode", values: [0] }, ping6));
  assert.ok(!m({ kind: "dstPort", ports: [[0, 65535]] }, ping6));
  assert.ok(m({ kind: "etherDst", multicast: true }, ping6));
  const unreach = pkt([
    { type: "ethernet", src: MAC_GUEST, dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.2" },
    { type: "icmpv4", kind: "destUnreachable", code: 3 },
    { type: "ipv4", src: "10.0.0.2", dst: "10.0.0.1" },
    { type: "udp", srcPort: 1, dstPort: 2 },
  ]);
  assert.ok(m({ kind: "icmpType", values: [3] }, unreach));
  assert.ok(m({ kind: "icmpCode", values: [3] }, unreach));
  assert.ok(!m({ kind: "icmpCode", values: [1] }, unreach));
  const meta = new ActionMeta();
  meta.set("route", "igw");
  assert.ok(m({ kind: "meta", key: "route", value: "igw" }, t4, meta));
  assert.ok(!m({ kind: "meta", key: "route", value: "vpc" }, t4, meta));
  assert.ok(m({ kind: "not", pred: { kind: "ipProto", values: [17] } }, t4));
  assert.ok(
    m({
      kind: "any",
      preds: [{ kind: "ipProto", values: [17] }, { kind: "dstPort", ports: [443] }],
    }, t4),
  );
  assert.ok(
    !m({
      kind: "all",
      preds: [{ kind: "ipProto", values: [17] }, { kind: "dstPort", ports: [443] }],
    }, t4),
  );
  assert.ok(m({ kind: "all", preds: [] }, t4));
  // Non-IP frames never match IP predicates.
  const arp = pkt([
    { type: "ethernet", src: MAC_GUEST, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "arp", senderMac: MAC_GUEST, senderIp: "10.0.0.5", targetIp: "10.0.0.1" },
  ]);
  assert.ok(!m({ kind: "ipSrc", cidrs: ["0.0.0.0/0"] }, arp));
  assert.ok(!m({ kind: "ipProto", values: [0] }, arp));
  assert.ok(m({ kind: "etherType", values: [0x0806] }, arp));
  assert.throws(() => compilePredicate({ kind: "ipSrc", cidrs: ["10.0.0.0/33"] }), PredicateError);
  assert.throws(() => compilePredicate({ kind: "ipSrc", cidrs: ["nope"] }), PredicateError);
  // A bad value of a located field names the field (the predicate kind).
  assert.throws(
    () => compilePredicate({ kind: "dstPort", ports: [[9, 1]] }),
    (e) => e instanceof InvalidField && e.field === "dstPort" && /\[9,1\]/.test(e.reason),
  );
  assert.throws(
    () => compilePredicate({ kind: "etherSrc", mac: "zz" }),
    (e) => e instanceof InvalidField && e.field === "etherSrc" && /"zz"/.test(e.reason),
  );
});

function dhcp(msgType: number, client = true): Packet {
  const body = new Uint8Array(240 + 4);
  body[0] = client ? 1 : 2;
  body.set([0x63, 0x82, 0x53, 0x63], 236);
  body.set([53, 1, msgType, 255], 240);
  return pkt([
    { type: "ethernet", src: MAC_GUEST, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
    { type: "udp", srcPort: client ? 68 : 67, dstPort: client ? 67 : 68 },
    { type: "payload", data: body },
  ]);
}

Deno.test("body predicates: DHCPv4 option 53 and the DHCPv6 message type", () => {
  assert.ok(m({ kind: "dhcpMsgType", values: [1] }, dhcp(1)));
  assert.ok(m({ kind: "dhcpMsgType", values: [3, 1] }, dhcp(3)));
  assert.ok(!m({ kind: "dhcpMsgType", values: [1] }, dhcp(3)));
  assert.ok(!m({ kind: "dhcpMsgType", values: [1] }, udp("10.0.0.1:68", "10.0.0.2:67", 10)));
  const solicit = pkt([
    { type: "ethernet", src: MAC_GUEST, dst: "33:33:00:01:00:02" },
    { type: "ipv6", src: "fe80::1", dst: "ff02::1:2" },
    { type: "udp", srcPort: 546, dstPort: 547 },
    { type: "payload", data: new Uint8Array([1, 0xaa, 0xbb, 0xcc]) },
  ]);
  assert.ok(m({ kind: "dhcpv6MsgType", values: [1] }, solicit));
  assert.ok(!m({ kind: "dhcpv6MsgType", values: [3] }, solicit));
  assert.ok(!m({ kind: "dhcpv6MsgType", values: [1] }, dhcp(1)));
  // A Request emitted by the packet layer's DHCP encoder (options before 53, padding) matches.
  const req = emitDhcp({
    op: 1,
    xid: 0x1234,
    chaddr: parseMac(MAC_GUEST)!,
    hostname: "guest",
    parameterRequestList: [1, 3, 6],
    messageType: 3,
  });
  const p = pkt([
    { type: "ethernet", src: MAC_GUEST, dst: "ff:ff:ff:ff:ff:ff" },
    { type: "ipv4", src: "0.0.0.0", dst: "255.255.255.255" },
    { type: "udp", srcPort: 68, dstPort: 67 },
    { type: "payload", data: req },
  ]);
  assert.ok(m({ kind: "dhcpMsgType", values: [3] }, p));
  assert.ok(!m({ kind: "dhcpMsgType", values: [1] }, p));
});

Deno.test("meta actions feed later layers; a layer deny names layer and rule", () => {
  const router = new Layer({
    name: "router",
    rules: {
      out: [
        {
          priority: 10,
          predicates: [{ kind: "ipDst", cidrs: ["0.0.0.0/0"] }],
          action: A.meta({ route: "igw" }),
        },
        {
          priority: 5,
          predicates: [{ kind: "ipDst", cidrs: ["10.0.0.0/8"] }],
          action: A.meta({ route: "vpc" }),
        },
      ],
    },
  });
  const gate = new Layer({
    name: "gate",
    defaults: { out: "deny" },
    rules: {
      out: [{
        priority: 1,
        predicates: [{ kind: "meta", key: "route", value: "vpc" }],
        action: A.allow,
      }],
    },
  });
  const { port } = mkPort([router, gate]);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "10.9.9.9:2")), RES_MODIFIED);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "8.8.8.8:2")), RES_DROP);
  assert.equal(port.result.layer, "gate");
  assert.equal(port.result.rule, -1);
  // A trace names every layer's decision.
  const tr = port.trace(DIR_OUT, udp("10.0.0.5:1", "8.8.4.4:2"));
  assert.equal(tr.code, RES_DROP);
  assert.deepEqual(tr.steps.map((s) => [s.layer, s.via]), [
    ["router", "rule"],
    ["gate", "default"],
    ["gate", "drop"],
  ]);
  assert.equal(tr.steps[0].rule, router.rules[DIR_OUT].list[1].id);
  const ok = port.trace(DIR_OUT, udp("10.0.0.5:1", "10.9.9.9:2"));
  assert.deepEqual(ok.steps.map((s) => s.via), ["uft"]);
  void DIR_IN;
});

Deno.test("the numeric prefilter never changes which rule matches (generated rules and packets)", () => {
  const addr4 = fc.constantFrom("10.0.0.5", "10.0.0.6", "10.0.1.7", "192.168.1.1");
  const addr6 = fc.constantFrom("fd00::5", "fd00::6", "fd00:1::7");
  const pred: fc.Arbitrary<Predicate> = fc.oneof(
    fc.record({
      kind: fc.constantFrom("ipSrc" as const, "ipDst" as const),
      cidrs: fc.array(
        fc.oneof(
          fc.tuple(addr4, fc.constantFrom(0, 8, 24, 31, 32)).map(([a, n]) => `${a}/${n}`),
          fc.tuple(addr6, fc.constantFrom(0, 64, 127, 128)).map(([a, n]) => `${a}/${n}`),
        ),
        { minLength: 1, maxLength: 2 },
      ),
    }),
    fc.record({
      kind: fc.constantFrom("srcPort" as const, "dstPort" as const),
      ports: fc.array(
        fc.oneof(
          fc.integer({ min: 1, max: 4 }),
          fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([a, b]) =>
            [Math.min(a, b), Math.max(a, b)] as const
          ),
        ),
        { minLength: 1, maxLength: 2 },
      ),
    }),
    fc.record({
      kind: fc.constant("ipProto" as const),
      values: fc.array(fc.constantFrom(1, 6, 17, 58), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({
      kind: fc.constant("ipVersion" as const),
      version: fc.constantFrom(4 as const, 6 as const),
    }),
  );
  const rule = fc.record({
    priority: fc.integer({ min: 0, max: 5 }),
    deny: fc.boolean(),
    preds: fc.array(pred, { maxLength: 3 }),
  });
  const packet = fc.record({
    v6: fc.boolean(),
    proto: fc.constantFrom("tcp", "udp", "icmp"),
    s: fc.integer({ min: 0, max: 2 }),
    d: fc.integer({ min: 0, max: 2 }),
    sp: fc.integer({ min: 1, max: 4 }),
    dp: fc.integer({ min: 1, max: 4 }),
  });
  fc.assert(
    fc.property(fc.array(rule, { maxLength: 12 }), packet, (rules, p) => {
      const t = new RuleTable();
      for (const r of rules) {
        t.add({ priority: r.priority, predicates: r.preds, action: r.deny ? A.deny() : A.allow });
      }
      const as = p.v6 ? ["fd00::5", "fd00::6", "fd00:1::7"] : ["10.0.0.5", "10.0.0.6", "10.0.1.7"];
      const [src, dst] = [as[p.s], as[p.d]];
      const pk = p.proto === "icmp"
        ? pkt([
          { type: "ethernet", src: MAC_GUEST, dst: "a8:40:25:ff:77:77" },
          p.v6 ? { type: "ipv6", src, dst } : { type: "ipv4", src, dst },
          p.v6
            ? { type: "icmpv6", kind: "echoRequest", id: p.sp, seq: 1 }
            : { type: "icmpv4", kind: "echoRequest", id: p.sp, seq: 1 },
        ])
        : p.proto === "tcp"
        ? tcp(
          p.v6 ? `[${src}]:${p.sp}` : `${src}:${p.sp}`,
          p.v6 ? `[${dst}]:${p.dp}` : `${dst}:${p.dp}`,
          "S",
        )
        : udp(
          p.v6 ? `[${src}]:${p.sp}` : `${src}:${p.sp}`,
          p.v6 ? `[${dst}]:${p.dp}` : `${dst}:${p.dp}`,
        );
      const am = new ActionMeta();
      const naive = t.list.find((r) => r.match(pk, am)) ?? null;
      assert.equal(t.find(pk, am), naive);
    }),
    { numRuns: 500 },
  );
});

Deno.test("outbound runs layers first→last, inbound last→first; setRules bumps the epoch", () => {
  const names = ["a", "b", "c"];
  const { port } = mkPort(names.map((name) => new Layer({ name })));
  const out = port.trace(DIR_OUT, udp("10.0.0.5:1", "10.0.0.6:2"));
  assert.deepEqual(out.steps.map((s) => s.layer), ["a", "b", "c"]);
  const inb = port.trace(DIR_IN, udp("10.0.0.6:2", "10.0.0.5:1"));
  assert.deepEqual(inb.steps.map((s) => s.layer), ["c", "b", "a"]);
  const e = port.epoch;
  port.setRules("b", { in: [{ priority: 1, action: A.deny("gone") }] });
  assert.equal(port.epoch, e + 1);
  assert.equal(port.process(DIR_IN, udp("10.0.0.6:2", "10.0.0.5:1")), RES_DROP);
  assert.equal(port.result.layer, "b");
  assert.equal(port.result.reason, "gone");
  assert.throws(() => port.setRules("nope", {}), /no layer "nope"/);
});
