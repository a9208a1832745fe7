import assert from "node:assert/strict";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import { oxideExternalOption } from "../../lib/packet/geneve.ts";
import type { ExternalIpConfig } from "../../lib/vpc/external.ts";
import { cat, ip6 } from "./frames.ts";
import {
  assertDropped,
  assertPassed,
  BOUNDARY,
  buildFrame,
  expectedOuter,
  flowHashOf,
  geneveFrame,
  GW_MAC,
  Scenario,
  SLED1,
} from "./harness.ts";

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", ip6: "fd00:a::10" };
const BMAC = "a8:40:25:77:77:77";
const BOUNDARY2 = "fd00:99::2";

function guest(
  s: Scenario,
  ext4: ExternalIpConfig,
  ext6: ExternalIpConfig = {},
  firewall?: string[],
) {
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BOUNDARY }, { ip: BOUNDARY2 }]);
  s.mappings.v2b.set("::/0", [{ ip: BOUNDARY }]);
  return s.port({
    name: "a",
    vni: 10,
    guestMac: A.mac,
    underlay: SLED1,
    v4: { privateIp: A.ip, subnet: "172.30.0.0/22", external: ext4 },
    v6: { privateIp: A.ip6, subnet: "fd00:a::/64", external: ext6 },
    firewall: firewall && firewallRulesFromText(firewall.map((t) => {
      const [direction, action, priority, protocol, ports] = t.split(" ");
      return {
        direction: direction as "in",
        action: action as "allow",
        priority: Number(priority),
        protocol,
        ports,
      };
    })),
  });
}

type Ends = { src: string; dst: string; sport: number; dport: number };
const v4tcp = (e: Ends, srcMac: string, dstMac: string, flags: string): LayerSpec[] => [
  { type: "ethernet", src: srcMac, dst: dstMac },
  { type: "ipv4", src: e.src, dst: e.dst, id: 1 },
  {
    type: "tcp",
    srcPort: e.sport,
    dstPort: e.dport,
    flags,
    seq: 9,
    ack: flags.includes("A") ? 1 : 0,
  },
];

/** The encapsulated frame the port must emit towards boundary endpoint `ep` for `inner`. */
function toBoundary(inner: Uint8Array, endpoints: string[]): Uint8Array {
  const h = flowHashOf(inner);
  return cat(expectedOuter(SLED1, endpoints[h % endpoints.length], 99, h, inner.length), inner);
}

const fromBoundary = (inner: LayerSpec[]) =>
  geneveFrame(BOUNDARY, SLED1, 10, inner, [oxideExternalOption()]);

Deno.test("guest→internet over SNAT (v4 TCP, v6 UDP, ICMP echo) and replies back", async (t) => {
  const s = new Scenario();
  const a = guest(s, { snat: { ip: "203.0.113.9", ports: "1024-2047" } }, {
    snat: { ip: "2001:db8:ff::9", ports: "4096-4100" },
  });
  const out = { src: A.ip, dst: "8.8.8.8", sport: 40000, dport: 443 };
  const wire = assertPassed(s.send(a, "out", buildFrame(v4tcp(out, A.mac, GW_MAC, "S"))));
  const nat = { ...out, src: "203.0.113.9", sport: 2047 };
  assert.deepEqual(
    wire,
    toBoundary(buildFrame(v4tcp(nat, A.mac, BMAC, "S")), [BOUNDARY, BOUNDARY2]),
  );
  const reply = { src: "8.8.8.8", dst: "203.0.113.9", sport: 443, dport: 2047 };
  const back = s.send(a, "in", fromBoundary(v4tcp(reply, BMAC, A.mac, "SA")));
  const un = { ...reply, dst: A.ip, dport: 40000 };
  assert.deepEqual(assertPassed(back), buildFrame(v4tcp(un, GW_MAC, A.mac, "SA")));
  // v6 UDP through the v6 SNAT pool.
  const u6 = (
    src: string,
    dst: string,
    sport: number,
    dport: number,
    sm: string,
    dm: string,
  ): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv6", src, dst },
    { type: "udp", srcPort: sport, dstPort: dport },
    { type: "payload", data: "ntp?" },
  ];
  const w6 = assertPassed(
    s.send(a, "out", buildFrame(u6(A.ip6, "2001:db8::123", 40123, 7123, A.mac, GW_MAC))),
  );
  assert.deepEqual(
    w6,
    toBoundary(buildFrame(u6("2001:db8:ff::9", "2001:db8::123", 4100, 7123, A.mac, BMAC)), [
      BOUNDARY,
    ]),
  );
  const b6 = s.send(
    a,
    "in",
    fromBoundary(u6("2001:db8::123", "2001:db8:ff::9", 7123, 4100, BMAC, A.mac)),
  );
  assert.deepEqual(
    assertPassed(b6),
    buildFrame(u6("2001:db8::123", A.ip6, 7123, 40123, GW_MAC, A.mac)),
  );
  // Ping: the echo identifier comes from the ICMP pool.
  const ping = (
    src: string,
    dst: string,
    id: number,
    kind: "echoRequest" | "echoReply",
    sm: string,
    dm: string,
  ): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv4", src, dst },
    { type: "icmpv4", kind, id, seq: 1 },
    { type: "payload", data: "abcdefgh" },
  ];
  const wp = assertPassed(
    s.send(a, "out", buildFrame(ping(A.ip, "1.1.1.1", 77, "echoRequest", A.mac, GW_MAC))),
  );
  assert.deepEqual(
    wp,
    toBoundary(buildFrame(ping("203.0.113.9", "1.1.1.1", 2047, "echoRequest", A.mac, BMAC)), [
      BOUNDARY,
      BOUNDARY2,
    ]),
  );
  const bp = s.send(
    a,
    "in",
    fromBoundary(ping("1.1.1.1", "203.0.113.9", 2047, "echoReply", BMAC, A.mac)),
  );
  assert.deepEqual(
    assertPassed(bp),
    buildFrame(ping("1.1.1.1", A.ip, 77, "echoReply", GW_MAC, A.mac)),
  );
  // Unsolicited traffic to the SNAT address is not let in.
  const stray = { src: "8.8.4.4", dst: "203.0.113.9", sport: 443, dport: 1024 };
  assertDropped(s.send(a, "in", fromBoundary(v4tcp(stray, BMAC, A.mac, "S"))));
  await s.tshark(t, "snat");
});

Deno.test("ephemeral IP is 1:1 (ports kept); floating IPs preferred, chosen by flow hash", async (t) => {
  const s = new Scenario();
  const e = guest(s, {
    ephemeralIp: "203.0.113.20",
    snat: { ip: "203.0.113.9", ports: "1024-2047" },
  });
  const out = { src: A.ip, dst: "8.8.8.8", sport: 40000, dport: 443 };
  const w = assertPassed(s.send(e, "out", buildFrame(v4tcp(out, A.mac, GW_MAC, "S"))));
  assert.deepEqual(
    w,
    toBoundary(buildFrame(v4tcp({ ...out, src: "203.0.113.20" }, A.mac, BMAC, "S")), [
      BOUNDARY,
      BOUNDARY2,
    ]),
  );
  const s2 = new Scenario();
  const floating = ["198.51.100.1", "198.51.100.2"];
  const f = guest(s2, { ephemeralIp: "203.0.113.20", floatingIps: floating });
  const seen = new Set<string>();
  for (let sport = 40000; sport < 40016; sport++) {
    const o = { ...out, sport };
    const pre = buildFrame(v4tcp(o, A.mac, GW_MAC, "S"));
    const wf = assertPassed(s2.send(f, "out", pre));
    const chosen = floating[flowHashOf(pre) % 2];
    seen.add(chosen);
    assert.deepEqual(
      wf,
      toBoundary(buildFrame(v4tcp({ ...o, src: chosen }, A.mac, BMAC, "S")), [BOUNDARY, BOUNDARY2]),
    );
  }
  assert.equal(seen.size, 2, "16 flows spread over both floating IPs");
  await s.tshark(t, "ephemeral");
  await s2.tshark(t, "floating");
});

Deno.test("inbound to a floating IP: translated to the guest, reply leaves from that IP", async (t) => {
  const s = new Scenario();
  const a = guest(s, { floatingIps: ["198.51.100.1", "198.51.100.2"] }, {}, [
    "in allow 100 tcp 80",
  ]);
  const inb = { src: "192.0.2.77", dst: "198.51.100.2", sport: 55555, dport: 80 };
  const d = s.send(a, "in", fromBoundary(v4tcp(inb, BMAC, A.mac, "S")));
  assert.deepEqual(assertPassed(d), buildFrame(v4tcp({ ...inb, dst: A.ip }, GW_MAC, A.mac, "S")));
  const rep = { src: A.ip, dst: "192.0.2.77", sport: 80, dport: 55555 };
  const w = assertPassed(s.send(a, "out", buildFrame(v4tcp(rep, A.mac, GW_MAC, "SA"))));
  assert.deepEqual(
    w,
    toBoundary(buildFrame(v4tcp({ ...rep, src: "198.51.100.2" }, A.mac, BMAC, "SA")), [
      BOUNDARY,
      BOUNDARY2,
    ]),
  );
  // Port 22 is not allowed in by the firewall.
  assertDropped(
    s.send(a, "in", fromBoundary(v4tcp({ ...inb, dport: 22 }, BMAC, A.mac, "S"))),
    "default deny",
  );
  await s.tshark(t, "floating inbound");
});

Deno.test("SNAT exhaustion drops and counts; ports come back when flows die", async (t) => {
  const s = new Scenario();
  const a = guest(s, { snat: { ip: "203.0.113.9", ports: "1024-1025" } });
  const udp = (sport: number): LayerSpec[] => [
    { type: "ethernet", src: A.mac, dst: GW_MAC },
    { type: "ipv4", src: A.ip, dst: "9.9.9.9" },
    { type: "udp", srcPort: sport, dstPort: 7000 },
  ];
  const portOf = (w: Uint8Array) => (w[70 + 34] << 8) | w[70 + 35];
  assert.equal(portOf(assertPassed(s.send(a, "out", buildFrame(udp(1000))))), 1025);
  assert.equal(portOf(assertPassed(s.send(a, "out", buildFrame(udp(1001))))), 1024);
  assertDropped(s.send(a, "out", buildFrame(udp(1002))), "snat exhausted");
  const pools = a.nat.snat(4)!;
  assert.equal(pools.udp.exhausted, 1);
  assert.equal(a.port.stats.drops.get("snat exhausted"), 1);
  // TCP has its own pool.
  const syn = buildFrame(
    v4tcp({ src: A.ip, dst: "9.9.9.9", sport: 1003, dport: 80 }, A.mac, GW_MAC, "S"),
  );
  assert.equal(portOf(assertPassed(s.send(a, "out", syn))), 1025);
  // An existing flow keeps its port.
  assert.equal(portOf(assertPassed(s.send(a, "out", buildFrame(udp(1000))))), 1025);
  // Within the half-open timeout nothing is released.
  s.now = 3_000;
  a.expire();
  assert.equal(pools.udp.inUse, 2);
  assert.equal(pools.tcp.inUse, 1);
  // After the idle timeouts (UDP 60 s, half-open TCP 5 s) the pairs die and release their ports.
  s.now = 61_000;
  a.expire();
  assert.equal(pools.udp.inUse, 0);
  assert.equal(pools.tcp.inUse, 0);
  const again = portOf(assertPassed(s.send(a, "out", buildFrame(udp(1002)))));
  assert.ok(again === 1024 || again === 1025);
  // TCP: a connection closed by RST gives its port back once its pair has gone idle.
  const syn2 = buildFrame(
    v4tcp({ src: A.ip, dst: "9.9.9.9", sport: 1004, dport: 80 }, A.mac, GW_MAC, "S"),
  );
  assertPassed(s.send(a, "out", syn2));
  assert.equal(pools.tcp.inUse, 1);
  const rst = buildFrame(
    v4tcp({ src: A.ip, dst: "9.9.9.9", sport: 1004, dport: 80 }, A.mac, GW_MAC, "R"),
  );
  assertPassed(s.send(a, "out", rst));
  s.now = 200_000;
  a.expire();
  assert.equal(pools.tcp.inUse, 0);
  await s.tshark(t, "SNAT exhaustion");
});

Deno.test("ICMP errors quoting SNAT flows are restored for the guest (v4 time exceeded, v6 PTB)", async (t) => {
  const s = new Scenario();
  const a = guest(s, { snat: { ip: "203.0.113.9", ports: "1024-2047" } }, {
    snat: { ip: "2001:db8:ff::9", ports: "4096-4100" },
  });
  const probe = (src: string, sport: number, ttl: number): LayerSpec[] => [
    { type: "ipv4", src, dst: "8.8.8.8", ttl, id: 4242 },
    { type: "udp", srcPort: sport, dstPort: 33434 },
    { type: "payload", data: "traceroute" },
  ];
  assertPassed(
    s.send(
      a,
      "out",
      buildFrame([{ type: "ethernet", src: A.mac, dst: GW_MAC }, ...probe(A.ip, 40000, 1)]),
    ),
  );
  const err = (
    dst: string,
    quotedSrc: string,
    sport: number,
    sm: string,
    dm: string,
  ): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv4", src: "192.0.2.254", dst, ttl: 255 },
    { type: "icmpv4", kind: "timeExceeded" },
    ...probe(quotedSrc, sport, 1),
  ];
  const got = s.send(a, "in", fromBoundary(err("203.0.113.9", "203.0.113.9", 2047, BMAC, A.mac)));
  assert.deepEqual(assertPassed(got), buildFrame(err(A.ip, A.ip, 40000, GW_MAC, A.mac)));
  assert.equal(a.counters.errorsTranslated, 1);
  // IPv6 packet-too-big quoting a TCP segment of a v6 SNAT flow.
  const seg = (src: string, sport: number): LayerSpec[] => [
    { type: "ipv6", src, dst: "2001:db8::80" },
    { type: "tcp", srcPort: sport, dstPort: 443, flags: "A", seq: 5, ack: 6 },
    { type: "payload", data: new Uint8Array(64) },
  ];
  assertPassed(
    s.send(
      a,
      "out",
      buildFrame([{ type: "ethernet", src: A.mac, dst: GW_MAC }, ...seg(A.ip6, 41000)]),
    ),
  );
  const ptb = (dst: string, quoted: string, sport: number, sm: string, dm: string): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv6", src: "2001:db8::fe", dst },
    { type: "icmpv6", kind: "packetTooBig", mtu: 1280 },
    ...seg(quoted, sport),
  ];
  const g6 = s.send(
    a,
    "in",
    fromBoundary(ptb("2001:db8:ff::9", "2001:db8:ff::9", 4100, BMAC, A.mac)),
  );
  assert.deepEqual(assertPassed(g6), buildFrame(ptb(A.ip6, A.ip6, 41000, GW_MAC, A.mac)));
  // An error quoting something the guest never sent is dropped.
  const bogus = s.send(a, "in", fromBoundary(err("203.0.113.9", "203.0.113.9", 1999, BMAC, A.mac)));
  assertDropped(bogus);
  await s.tshark(t, "icmp errors through snat");
});

Deno.test("changing external IPs keeps flows on addresses still assigned, kills the others", async (t) => {
  const s = new Scenario();
  const a = guest(s, {
    floatingIps: ["198.51.100.1"],
    snat: { ip: "203.0.113.9", ports: "1024-2047" },
  });
  const f1 = buildFrame(
    v4tcp({ src: A.ip, dst: "8.8.8.8", sport: 40000, dport: 443 }, A.mac, GW_MAC, "S"),
  );
  const srcOf = (w: Uint8Array) => [...w.subarray(70 + 26, 70 + 30)].join(".");
  assert.equal(srcOf(assertPassed(s.send(a, "out", f1))), "198.51.100.1");
  // Add a second floating IP: the existing flow stays on .1 even if its hash would pick .2.
  a.setExternalIps({
    v4: {
      floatingIps: ["198.51.100.2", "198.51.100.1"],
      snat: { ip: "203.0.113.9", ports: "1024-2047" },
    },
  });
  const ack = buildFrame(
    v4tcp({ src: A.ip, dst: "8.8.8.8", sport: 40000, dport: 443 }, A.mac, GW_MAC, "A"),
  );
  assert.equal(srcOf(assertPassed(s.send(a, "out", ack))), "198.51.100.1");
  // Withdraw .1: the flow is re-translated with what is assigned now.
  a.setExternalIps({ v4: { floatingIps: ["198.51.100.2"] } });
  assert.equal(srcOf(assertPassed(s.send(a, "out", ack))), "198.51.100.2");
  // Withdraw everything: outbound internet traffic is denied.
  a.setExternalIps({ v4: {} });
  assertDropped(s.send(a, "out", ack), "no external ip");
  await s.tshark(t, "changing external IPs");
});

Deno.test("V2B change moves an existing SNAT flow to the new boundary endpoint, same SNAT port", async (t) => {
  const s = new Scenario();
  const a = guest(s, { snat: { ip: "203.0.113.9", ports: "1024-2047" } });
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BOUNDARY }]);
  const e = { src: A.ip, dst: "8.8.8.8", sport: 40000, dport: 443 };
  const first = assertPassed(s.send(a, "out", buildFrame(v4tcp(e, A.mac, GW_MAC, "S"))));
  const ack = buildFrame(v4tcp(e, A.mac, GW_MAC, "A"));
  assert.equal(s.send(a, "out", ack).fastPath, true);
  // A more specific prefix to another endpoint with its own VNI.
  s.mappings.v2b.set("8.8.0.0/16", [{ ip: "fd00:99::7", vni: 1234 }]);
  const moved = s.send(a, "out", ack);
  const w = assertPassed(moved);
  assert.equal(moved.fastPath, false);
  const nat = { ...e, src: "203.0.113.9", sport: 2047 };
  const inner = buildFrame(v4tcp(nat, A.mac, BMAC, "A"));
  const h = flowHashOf(inner);
  assert.deepEqual(w, cat(expectedOuter(SLED1, "fd00:99::7", 1234, h, inner.length), inner));
  assert.deepEqual(first.subarray(38, 54), ip6(BOUNDARY));
  assert.equal(a.counters.mappingInvalidations, 1);
  await s.tshark(t, "V2B change moves");
});

Deno.test("ICMP errors the guest sends about NATed flows leave from the external address", async (t) => {
  const s = new Scenario();
  const a = guest(s, { floatingIps: ["198.51.100.2"] }, {}, ["in allow 100 udp 7000"]);
  const dgram = (src: string, dst: string, sport: number, dport: number): LayerSpec[] => [
    { type: "ipv4", src, dst },
    { type: "udp", srcPort: sport, dstPort: dport },
    { type: "payload", data: "knock" },
  ];
  const inb = fromBoundary([
    { type: "ethernet", src: BMAC, dst: A.mac },
    ...dgram("192.0.2.77", "198.51.100.2", 5000, 7000),
  ]);
  assertPassed(s.send(a, "in", inb));
  const unreachable = (src: string, quotedDst: string, sm: string, dm: string): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv4", src, dst: "192.0.2.77" },
    { type: "icmpv4", kind: "destUnreachable", code: 3 },
    ...dgram("192.0.2.77", quotedDst, 5000, 7000),
  ];
  const w = assertPassed(s.send(a, "out", buildFrame(unreachable(A.ip, A.ip, A.mac, GW_MAC))));
  const want = buildFrame(unreachable("198.51.100.2", "198.51.100.2", A.mac, BMAC));
  assert.deepEqual(w, toBoundary(want, [BOUNDARY, BOUNDARY2]));
  // The same through SNAT: the quoted destination gets the SNAT address and port back.
  const s2 = new Scenario();
  const b = guest(s2, { snat: { ip: "203.0.113.9", ports: "1024-2047" } });
  const up = buildFrame([
    { type: "ethernet", src: A.mac, dst: GW_MAC },
    ...dgram(A.ip, "9.9.9.9", 40000, 7000),
  ]);
  assertPassed(s2.send(b, "out", up));
  const down = fromBoundary([
    { type: "ethernet", src: BMAC, dst: A.mac },
    ...dgram("9.9.9.9", "203.0.113.9", 7000, 2047),
  ]);
  assertPassed(s2.send(b, "in", down));
  const err = (src: string, qdst: string, qport: number, sm: string, dm: string): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv4", src, dst: "9.9.9.9" },
    { type: "icmpv4", kind: "destUnreachable", code: 3 },
    ...dgram("9.9.9.9", qdst, 7000, qport),
  ];
  const w2 = assertPassed(s2.send(b, "out", buildFrame(err(A.ip, A.ip, 40000, A.mac, GW_MAC))));
  assert.deepEqual(
    w2,
    toBoundary(buildFrame(err("203.0.113.9", "203.0.113.9", 2047, A.mac, BMAC)), [
      BOUNDARY,
      BOUNDARY2,
    ]),
  );
  // A second, different error from the same guest to the same host is translated too (no UFT reuse).
  const other = buildFrame(err(A.ip, A.ip, 40001, A.mac, GW_MAC));
  assertDropped(s2.send(b, "out", other), "icmp error for no nat flow");
  assert.deepEqual(
    assertPassed(s2.send(b, "out", buildFrame(err(A.ip, A.ip, 40000, A.mac, GW_MAC)))),
    w2,
  );
  await s.tshark(t, "guest icmp errors via floating");
  await s2.tshark(t, "guest icmp errors via snat");
});

Deno.test("IPv6 guest→internet via a floating IP and via the ephemeral IP", async (t) => {
  const s = new Scenario();
  const seg = (src: string, sm: string, dm: string): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv6", src, dst: "2001:db8::443" },
    { type: "tcp", srcPort: 40000, dstPort: 443, flags: "S", seq: 1 },
  ];
  const f = guest(s, {}, { floatingIps: ["2001:db8:f::1"], ephemeralIp: "2001:db8:e::1" });
  const w = assertPassed(s.send(f, "out", buildFrame(seg(A.ip6, A.mac, GW_MAC))));
  assert.deepEqual(w, toBoundary(buildFrame(seg("2001:db8:f::1", A.mac, BMAC)), [BOUNDARY]));
  const s2 = new Scenario();
  const e = guest(s2, {}, { ephemeralIp: "2001:db8:e::1" });
  const w2 = assertPassed(s2.send(e, "out", buildFrame(seg(A.ip6, A.mac, GW_MAC))));
  assert.deepEqual(w2, toBoundary(buildFrame(seg("2001:db8:e::1", A.mac, BMAC)), [BOUNDARY]));
  await s.tshark(t, "v6 floating");
  await s2.tshark(t, "v6 ephemeral");
});

Deno.test("attached external subnet: sent untranslated (tag only), follows external IP changes", async (t) => {
  const s = new Scenario();
  const a = guest(s, { attachedSubnets: ["198.51.100.0/28"] }, {}, ["in allow 100 tcp 443"]);
  const e = { src: "198.51.100.5", dst: "8.8.8.8", sport: 40000, dport: 443 };
  const w = assertPassed(s.send(a, "out", buildFrame(v4tcp(e, A.mac, GW_MAC, "S"))));
  assert.deepEqual(w, toBoundary(buildFrame(v4tcp(e, A.mac, BMAC, "S")), [BOUNDARY, BOUNDARY2]));
  const inb = { src: "192.0.2.1", dst: "198.51.100.6", sport: 5555, dport: 443 };
  assert.deepEqual(
    assertPassed(s.send(a, "in", fromBoundary(v4tcp(inb, BMAC, A.mac, "S")))),
    buildFrame(v4tcp(inb, GW_MAC, A.mac, "S")),
  );
  // Without the attachment the same source is a spoof.
  a.setExternalIps({ v4: {} });
  assertDropped(
    s.send(a, "out", buildFrame(v4tcp({ ...e, sport: 40001 }, A.mac, GW_MAC, "S"))),
    "anti-spoof",
  );
  await s.tshark(t, "attached external subnet");
});

Deno.test("SNAT flows from two source addresses each come back to their own source", async (t) => {
  const s = new Scenario();
  const a = guest(s, { snat: { ip: "203.0.113.9", ports: "1024-2047" } });
  a.setSubnets({ attached: [], transit: [{ cidr: "10.9.0.0/16", allowIn: true, allowOut: true }] });
  // Alternating sources: the NAT layer shares address bytes between consecutive flows from one
  // source only (lib/vpc/nat.ts), so each reply must still reach the flow's own source.
  const srcs = [A.ip, "10.9.0.5", "10.9.0.5", A.ip, "10.9.0.6"];
  const ports: number[] = [];
  srcs.forEach((src, i) => {
    const out = { src, dst: "8.8.8.8", sport: 41000 + i, dport: 443 };
    const wire = assertPassed(s.send(a, "out", buildFrame(v4tcp(out, A.mac, GW_MAC, "S"))));
    // The SNAT port, read from the inner TCP header (outer 70 B, no options; + 14 + 20).
    ports.push((wire[70 + 34] << 8) | wire[70 + 35]);
  });
  srcs.forEach((src, i) => {
    const reply = { src: "8.8.8.8", dst: "203.0.113.9", sport: 443, dport: ports[i] };
    const back = s.send(a, "in", fromBoundary(v4tcp(reply, BMAC, A.mac, "SA")));
    const un = { ...reply, dst: src, dport: 41000 + i };
    assert.deepEqual(assertPassed(back), buildFrame(v4tcp(un, GW_MAC, A.mac, "SA")));
  });
  await s.tshark(t, "snat from two sources");
});
