import assert from "node:assert/strict";
import {
  firewallRuleFromText,
  firewallRulesFromText,
  firewallRuleText,
} from "../../lib/vpc/firewall_text.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import {
  assertDropped,
  assertPassed,
  buildFrame,
  geneveFrame,
  GW_MAC,
  innerOf,
  Scenario,
  SLED1,
  SLED2,
} from "./harness.ts";

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
const BMAC = "a8:40:25:fa:00:0b";

function setup(s: Scenario) {
  for (
    const [ip, m] of [["172.30.0.11", BMAC], ["172.30.0.13", "a8:40:25:fa:00:0d"], [
      "10.1.2.5",
      "a8:40:25:fa:02:05",
    ]]
  ) {
    s.mappings.v2p.set(10, ip, m, SLED2);
  }
  return s.port({
    name: "a",
    vni: 10,
    guestMac: A.mac,
    underlay: SLED1,
    v4: { privateIp: A.ip, subnet: "172.30.0.0/22" },
    firewall: firewallRulesFromText([
      {
        direction: "in",
        priority: 100,
        action: "allow",
        protocol: "tcp",
        ports: "22",
        hosts: "subnet=172.30.0.0/22",
      },
      {
        direction: "in",
        priority: 50,
        action: "deny",
        protocol: "tcp",
        ports: "22",
        hosts: "ip=172.30.0.13",
      },
      { direction: "in", priority: 100, action: "allow", protocol: "icmp:8" },
      { direction: "out", priority: 10, action: "deny", protocol: "udp", hosts: "ip=172.30.0.11" },
    ]),
  });
}

type L4 = { proto: "tcp" | "udp"; sport: number; dport: number; flags?: string };
const inner = (src: string, dst: string, smac: string, dmac: string, l4: L4): LayerSpec[] => [
  { type: "ethernet", src: smac, dst: dmac },
  { type: "ipv4", src, dst },
  l4.proto === "tcp"
    ? {
      type: "tcp",
      srcPort: l4.sport,
      dstPort: l4.dport,
      flags: l4.flags ?? "S",
      ack: l4.flags?.includes("A") ? 1 : 0,
    }
    : { type: "udp", srcPort: l4.sport, dstPort: l4.dport },
];
const fromVpc = (src: string, l4: L4, vni = 10) =>
  geneveFrame(SLED2, SLED1, vni, inner(src, A.ip, BMAC, A.mac, l4));
const fromGuest = (dst: string, l4: L4) => buildFrame(inner(A.ip, dst, A.mac, GW_MAC, l4));

Deno.test("firewall: inbound allow by subnet+port, deny by IP at higher priority, default deny", async (t) => {
  const s = new Scenario();
  const a = setup(s);
  const ssh = { proto: "tcp" as const, sport: 50000, dport: 22 };
  assert.deepEqual(
    assertPassed(s.send(a, "in", fromVpc("172.30.0.11", ssh))),
    buildFrame(inner("172.30.0.11", A.ip, GW_MAC, A.mac, ssh)),
  );
  assertDropped(s.send(a, "in", fromVpc("172.30.0.13", ssh)), "firewall deny");
  assertDropped(s.send(a, "in", fromVpc("172.30.0.11", { ...ssh, dport: 23 })), "default deny");
  // Outbound rule: UDP to .11 denied; TCP to .11 allowed (default stateful allow).
  assertDropped(
    s.send(a, "out", fromGuest("172.30.0.11", { proto: "udp", sport: 1, dport: 2 })),
    "firewall deny",
  );
  assertPassed(s.send(a, "out", fromGuest("172.30.0.11", { proto: "tcp", sport: 1, dport: 2 })));
  // ICMP type filter: echo request in is allowed, timestamp request is not.
  const icmp = (type: number) =>
    geneveFrame(SLED2, SLED1, 10, [
      { type: "ethernet", src: BMAC, dst: A.mac },
      { type: "ipv4", src: "172.30.0.11", dst: A.ip },
      type === 8
        ? { type: "icmpv4", kind: "echoRequest", id: 1, seq: 1 }
        : { type: "icmpv4", icmpType: type, restOfHeader: 0x00010001 },
      { type: "payload", data: new Uint8Array(12) },
    ]);
  assertPassed(s.send(a, "in", icmp(8)));
  assertDropped(s.send(a, "in", icmp(13)), "default deny");
  await s.tshark(t, "firewall allow/deny");
});

Deno.test("firewall: stateful return for outbound flows; a fresh inbound flow is still denied", async (t) => {
  const s = new Scenario();
  const a = setup(s);
  const web = { proto: "tcp" as const, sport: 41000, dport: 80 };
  const w = assertPassed(s.send(a, "out", fromGuest("172.30.0.11", web)));
  assert.equal(innerOf(w).length > 0, true);
  const reply = { proto: "tcp" as const, sport: 80, dport: 41000, flags: "SA" };
  const back = s.send(a, "in", fromVpc("172.30.0.11", reply));
  assert.deepEqual(
    assertPassed(back),
    buildFrame(inner("172.30.0.11", A.ip, GW_MAC, A.mac, reply)),
  );
  // The same peer opening port 41001 is not part of any flow.
  assertDropped(
    s.send(a, "in", fromVpc("172.30.0.11", { ...reply, dport: 41001, flags: "S" })),
    "default deny",
  );
  // UDP "replies" need the outbound flow too.
  assertPassed(
    s.send(a, "out", fromGuest("172.30.0.13", { proto: "udp", sport: 5000, dport: 6000 })),
  );
  assertPassed(s.send(a, "in", fromVpc("172.30.0.13", { proto: "udp", sport: 6000, dport: 5000 })));
  assertDropped(
    s.send(a, "in", fromVpc("172.30.0.13", { proto: "udp", sport: 6000, dport: 5001 })),
  );
  await s.tshark(t, "stateful return");
});

Deno.test("firewall: add, remove and replace rules at run time; VNI host filter", async (t) => {
  const s = new Scenario();
  const a = setup(s);
  const dns = { proto: "udp" as const, sport: 40000, dport: 53 };
  assertDropped(s.send(a, "in", fromVpc("172.30.0.11", dns)), "default deny");
  const id = a.addFirewallRule(firewallRuleFromText({
    direction: "in",
    priority: 10,
    action: "allow",
    protocol: "udp",
    ports: "53",
  }));
  assertPassed(s.send(a, "in", fromVpc("172.30.0.11", dns)));
  assert.ok(a.removeFirewallRule(id));
  assertDropped(s.send(a, "in", fromVpc("172.30.0.11", { ...dns, sport: 40001 })), "default deny");
  assert.equal(a.removeFirewallRule(id), false);
  // Replace everything with "allow all from VNI 10".
  a.setFirewall(
    firewallRulesFromText([{ direction: "in", priority: 1000, action: "allow", hosts: "vni=10" }]),
  );
  assertPassed(s.send(a, "in", fromVpc("172.30.0.11", { proto: "tcp", sport: 1, dport: 9999 })));
  assert.deepEqual(a.firewallRules().map(firewallRuleText), [{
    direction: "in",
    priority: 1000,
    action: "allow",
    hosts: "vni=10",
    protocol: "any",
    ports: "any",
  }]);
  // Traffic tagged external (from boundary services) carries no VNI: not matched by vni=10.
  const ext = geneveFrame(
    "fd00:99::1",
    SLED1,
    10,
    inner("8.8.8.8", A.ip, BMAC, A.mac, { proto: "tcp", sport: 1, dport: 9999 }),
    [
      { class: 0x0129, type: 0 },
    ],
  );
  assertDropped(s.send(a, "in", ext), "default deny");
  assert.throws(
    () =>
      a.setFirewall(
        firewallRulesFromText([{ direction: "in", priority: 1, action: "allow", ports: "99999" }]),
      ),
    /rules\[0\]\.ports: "99999" is not a port or range/,
  );
  await s.tshark(t, "firewall: add, remove");
});

Deno.test("router: custom beats system at equal prefix length, longer prefix beats both, no route drops", async (t) => {
  const s = new Scenario();
  const a = setup(s);
  const to = (ip: string) => fromGuest(ip, { proto: "tcp", sport: 1234, dport: 80 });
  a.addRoute({
    dest: "10.1.0.0/16",
    target: { kind: "vpc-subnet", cidr: "10.1.0.0/16" },
    class: "system",
  });
  const w = assertPassed(s.send(a, "out", to("10.1.2.5")));
  assert.deepEqual([...innerOf(w).subarray(0, 6)], [0xa8, 0x40, 0x25, 0xfa, 0x02, 0x05]);
  a.addRoute({ dest: "10.1.0.0/16", target: { kind: "drop" }, class: "custom" });
  assertDropped(s.send(a, "out", to("10.1.2.5")), "route drop");
  a.addRoute({
    dest: "10.1.2.0/24",
    target: { kind: "vpc-subnet", cidr: "10.1.2.0/24" },
    class: "system",
  });
  assertPassed(s.send(a, "out", to("10.1.2.5")));
  assertDropped(s.send(a, "out", to("10.1.3.5")), "route drop");
  assert.ok(a.removeRoute({ dest: "10.1.0.0/16", target: { kind: "drop" }, class: "custom" }));
  assert.ok(
    a.removeRoute({ dest: "0.0.0.0/0", target: { kind: "internet-gateway" }, class: "system" }),
  );
  assertDropped(s.send(a, "out", to("10.9.9.9")), "no route");
  assertDropped(s.send(a, "out", to("8.8.8.8")), "no route");
  a.setRoutes(
    [{ dest: "0.0.0.0/0", target: { kind: "ip", ip: "172.30.0.11" }, class: "custom" }],
    "custom",
  );
  const via = assertPassed(s.send(a, "out", to("8.8.8.8")));
  assert.deepEqual([...innerOf(via).subarray(0, 6)], [0xa8, 0x40, 0x25, 0xfa, 0x00, 0x0b]);
  await s.tshark(t, "router: custom beats");
});
