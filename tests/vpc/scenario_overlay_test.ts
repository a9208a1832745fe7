import assert from "node:assert/strict";
import {
  assertDropped,
  assertPassed,
  BOUNDARY,
  buildFrame,
  expectedOuter,
  flowHashOf,
  geneveFrame,
  GW_MAC,
  innerOf,
  Scenario,
  SLED1,
  SLED2,
} from "./harness.ts";
import { cat } from "./frames.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", ip6: "fd00:a::10" };
const B = { mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11", ip6: "fd00:a::11" };

function twoGuests(s: Scenario) {
  s.mappings.v2p.set(10, A.ip, A.mac, SLED1);
  s.mappings.v2p.set(10, B.ip, B.mac, SLED2);
  s.mappings.v2p.set(10, A.ip6, A.mac, SLED1);
  s.mappings.v2p.set(10, B.ip6, B.mac, SLED2);
  const common = { vni: 10, v4: undefined, v6: undefined };
  const a = s.port({
    ...common,
    name: "a",
    guestMac: A.mac,
    underlay: SLED1,
    v4: { privateIp: A.ip, subnet: "172.30.0.0/22" },
    v6: { privateIp: A.ip6, subnet: "fd00:a::/64" },
  });
  const b = s.port({
    ...common,
    name: "b",
    guestMac: B.mac,
    underlay: SLED2,
    v4: { privateIp: B.ip, subnet: "172.30.0.0/22" },
    v6: { privateIp: B.ip6, subnet: "fd00:a::/64" },
  });
  return { a, b };
}

const tcp = (
  src: typeof A,
  dst: typeof A,
  srcMac: string,
  dstMac: string,
  flags: string,
  sport = 40000,
  dport = 22,
  v6 = false,
): LayerSpec[] => [
  { type: "ethernet", src: srcMac, dst: dstMac },
  v6
    ? { type: "ipv6", src: src.ip6, dst: dst.ip6 }
    : { type: "ipv4", src: src.ip, dst: dst.ip, id: 7 },
  {
    type: "tcp",
    srcPort: sport,
    dstPort: dport,
    flags,
    seq: 1000,
    ack: flags.includes("A") ? 1 : 0,
  },
  { type: "payload", data: "hello" },
];

Deno.test("guest→guest in one VPC via V2P: exact encap, decap, delivery and reply", async (t) => {
  const s = new Scenario();
  const { a, b } = twoGuests(s);
  // A's SYN leaves sled 1 encapsulated to sled 2, inner dst MAC from V2P, Oxide MSS 1460.
  const syn = buildFrame(tcp(A, B, A.mac, GW_MAC, "S"));
  const wire = assertPassed(s.send(a, "out", syn));
  const innerWant = buildFrame(tcp(A, B, A.mac, B.mac, "S"));
  const h = flowHashOf(syn);
  assert.deepEqual(
    wire,
    cat(expectedOuter(SLED1, SLED2, 10, h, innerWant.length, "0129 02 01 000005b4"), innerWant),
  );
  // On sled 2, B's port decapsulates and delivers from the gateway MAC.
  const delivered = assertPassed(s.send(b, "in", wire));
  assert.deepEqual(delivered, buildFrame(tcp(A, B, GW_MAC, B.mac, "S")));
  // B answers; the reply is encapsulated back to sled 1 and reaches A.
  const synAck = buildFrame(tcp(B, A, B.mac, GW_MAC, "SA", 22, 40000));
  const back = assertPassed(s.send(b, "out", synAck));
  const innerBack = buildFrame(tcp(B, A, B.mac, A.mac, "SA", 22, 40000));
  assert.deepEqual(
    back,
    cat(
      expectedOuter(SLED2, SLED1, 10, flowHashOf(synAck), innerBack.length, "0129 02 01 000005b4"),
      innerBack,
    ),
  );
  assert.deepEqual(
    assertPassed(s.send(a, "in", back)),
    buildFrame(tcp(B, A, GW_MAC, A.mac, "SA", 22, 40000)),
  );
  // The next segment of the same flow takes the fast path with the same result.
  const ack = buildFrame(tcp(A, B, A.mac, GW_MAC, "A"));
  const o = s.send(a, "out", ack);
  assert.equal(o.fastPath, true);
  const innerAck = buildFrame(tcp(A, B, A.mac, B.mac, "A"));
  assert.deepEqual(
    o.frame,
    cat(expectedOuter(SLED1, SLED2, 10, h, innerAck.length, "0129 02 01 000005b4"), innerAck),
  );
  // IPv6 between the same guests (UDP: no MSS option).
  const u6 = buildFrame([
    { type: "ethernet", src: A.mac, dst: GW_MAC },
    { type: "ipv6", src: A.ip6, dst: B.ip6 },
    { type: "udp", srcPort: 40053, dstPort: 7777 },
    { type: "payload", data: "q" },
  ]);
  const w6 = assertPassed(s.send(a, "out", u6));
  assert.deepEqual(innerOf(w6).subarray(0, 6), Uint8Array.of(0xa8, 0x40, 0x25, 0xfa, 0, 0x0b));
  assert.equal(w6[62], 0); // no options
  await s.tshark(t, "guest to guest");
});

Deno.test("different VPCs are isolated: no V2P in the other VNI, foreign VNI dropped", async (t) => {
  const s = new Scenario();
  const { a, b } = twoGuests(s);
  // C lives in VPC 20 with an address of its own; A cannot reach it (no V2P in VNI 10).
  s.mappings.v2p.set(20, "172.30.0.99", "a8:40:25:fa:00:99", SLED2);
  const toC = buildFrame(tcp(A, { ...B, ip: "172.30.0.99" }, A.mac, GW_MAC, "S"));
  assertDropped(s.send(a, "out", toC), "no v2p mapping");
  // A frame from VPC 20 to B (same inner addresses) is refused by B's port.
  const foreign = geneveFrame(SLED1, SLED2, 20, tcp(A, B, A.mac, B.mac, "S"));
  assertDropped(s.send(b, "in", foreign), "geneve vni mismatch");
  // A frame from VPC 10 passes the same check (firewall allows the own VPC by default).
  const own = geneveFrame(SLED1, SLED2, 10, tcp(A, B, A.mac, B.mac, "S"));
  assertPassed(s.send(b, "in", own));
  // Unknown critical Geneve option: dropped, even for an established flow (fast path).
  const crit = geneveFrame(SLED1, SLED2, 10, tcp(A, B, A.mac, B.mac, "A"), [
    { class: 0x0129, type: 0x7f, critical: true },
  ]);
  assertDropped(s.send(b, "in", crit), "geneve unknown critical option");
  // Unknown non-critical option: ignored.
  const soft = geneveFrame(SLED1, SLED2, 10, tcp(A, B, A.mac, B.mac, "A"), [
    { class: 0x0100, type: 1, data: new Uint8Array(4) },
  ]);
  assertPassed(s.send(b, "in", soft));
  await s.tshark(t, "isolation");
});

Deno.test("V2P change redirects an existing flow; unrelated flows keep their UFT entries", async (t) => {
  const s = new Scenario();
  const { a } = twoGuests(s);
  s.mappings.v2p.set(10, "172.30.0.12", "a8:40:25:fa:00:0c", SLED2);
  const toB = buildFrame(tcp(A, B, A.mac, GW_MAC, "S"));
  const toC = buildFrame(tcp(A, { ...B, ip: "172.30.0.12" }, A.mac, GW_MAC, "S", 40001, 80));
  assertPassed(s.send(a, "out", toB));
  assertPassed(s.send(a, "out", toC));
  const ack = buildFrame(tcp(A, B, A.mac, GW_MAC, "A"));
  assert.equal(s.send(a, "out", ack).fastPath, true);
  // B migrates to sled 3 with a new MAC.
  s.mappings.v2p.set(10, B.ip, "a8:40:25:fa:01:0b", "fd00:3::1");
  const moved = s.send(a, "out", ack);
  const w = assertPassed(moved);
  assert.equal(moved.fastPath, false);
  const innerWant = buildFrame(tcp(A, B, A.mac, "a8:40:25:fa:01:0b", "A"));
  assert.deepEqual(
    w,
    cat(
      expectedOuter(
        SLED1,
        "fd00:3::1",
        10,
        flowHashOf(ack),
        innerWant.length,
        "0129 02 01 000005b4",
      ),
      innerWant,
    ),
  );
  assert.equal(a.counters.mappingInvalidations, 1);
  const sweeps = a.counters.mappingSweeps;
  // Churn in another VPC's mappings costs this port no scan at all.
  for (let i = 0; i < 100; i++) s.mappings.v2p.set(20, `10.0.0.${i}`, "a8:40:25:fa:09:09", SLED2);
  assert.equal(s.send(a, "out", ack).fastPath, true);
  assert.equal(a.counters.mappingSweeps, sweeps);
  // The flow to .12 did not use the changed mapping: still a UFT hit.
  const ackC = buildFrame(tcp(A, { ...B, ip: "172.30.0.12" }, A.mac, GW_MAC, "A", 40001, 80));
  assert.equal(s.send(a, "out", ackC).fastPath, true);
  // Removing the mapping stops the flow.
  s.mappings.v2p.clear(10, B.ip);
  assertDropped(s.send(a, "out", ack), "no v2p mapping");
  await s.tshark(t, "v2p change");
});

Deno.test("route to an IP target resolves the next hop through V2P; boundary via V2B", async (t) => {
  const s = new Scenario();
  const { a } = twoGuests(s);
  a.addRoute({ dest: "192.168.0.0/16", target: { kind: "ip", ip: B.ip }, class: "custom" });
  const f = buildFrame(tcp(A, { ...B, ip: "192.168.4.4" }, A.mac, GW_MAC, "S"));
  const w = assertPassed(s.send(a, "out", f));
  assert.deepEqual(w.subarray(38, 54), new Uint8Array([0xfd, 0, 0, 2, ...new Uint8Array(11), 1]));
  assert.deepEqual(innerOf(w).subarray(0, 6), Uint8Array.of(0xa8, 0x40, 0x25, 0xfa, 0, 0x0b));
  // Internet-gateway traffic without any external address is refused by nat.
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BOUNDARY }]);
  const out = buildFrame(tcp(A, { ...B, ip: "8.8.8.8" }, A.mac, GW_MAC, "S", 40000, 443));
  assertDropped(s.send(a, "out", out), "no external ip");
  await s.tshark(t, "route to an IP target");
});
