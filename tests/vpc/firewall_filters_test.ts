// Firewall filters upstream's FirewallRule can express: port lists and ranges, ICMP type with a
// code range, numeric IP protocols, ARP; bad combinations are refused naming the field.

import assert from "node:assert/strict";
import { type FirewallRuleInput, firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import {
  assertDropped,
  assertPassed,
  geneveFrame,
  type Outcome,
  Scenario,
  SLED1,
  SLED2,
} from "./harness.ts";

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
const B = { mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };

function port(s: Scenario, firewall: FirewallRuleInput[]) {
  s.mappings.v2p.set(10, B.ip, B.mac, SLED2);
  return s.port({
    name: "a",
    vni: 10,
    guestMac: A.mac,
    underlay: SLED1,
    v4: { privateIp: A.ip, subnet: "172.30.0.0/22" },
    routes: [{
      dest: "172.30.0.0/22",
      target: { kind: "vpc-subnet", cidr: "172.30.0.0/22" },
      class: "system",
    }],
    firewall: firewallRulesFromText(firewall),
  });
}

const fromB = (l3: LayerSpec[]) =>
  geneveFrame(SLED2, SLED1, 10, [{ type: "ethernet", src: B.mac, dst: A.mac }, ...l3]);
const tcp = (dport: number): LayerSpec[] => [
  { type: "ipv4", src: B.ip, dst: A.ip },
  { type: "tcp", srcPort: 40000 + dport % 1000, dstPort: dport, flags: "S", seq: 1 },
];
const icmp = (icmpType: number, code: number): LayerSpec[] => [
  { type: "ipv4", src: B.ip, dst: A.ip },
  { type: "icmpv4", icmpType, code, restOfHeader: 0 },
];
/** Dropped by the firewall (no allowing rule: the layer's inbound default). */
function denied(o: Outcome): void {
  assertDropped(o);
  assert.equal(o.layer, "firewall");
}
const allowIn = (x: Partial<FirewallRuleInput>): FirewallRuleInput => ({
  direction: "in",
  priority: 100,
  action: "allow",
  ...x,
});

Deno.test("firewall: a rule's port list and ranges", () => {
  const s = new Scenario();
  const a = port(s, [allowIn({ protocol: "tcp", ports: "22,8000-8080" })]);
  for (const p of [22, 8000, 8080]) assertPassed(s.send(a, "in", fromB(tcp(p))));
  for (const p of [23, 7999, 8081]) denied(s.send(a, "in", fromB(tcp(p))));
});

Deno.test("firewall: ICMP type with a code range", () => {
  const s = new Scenario();
  // Type 13 (timestamp) codes 0-1; nothing else of ICMP.
  const a = port(s, [allowIn({ protocol: "icmp:13/0-1" })]);
  assertPassed(s.send(a, "in", fromB(icmp(13, 0))));
  assertPassed(s.send(a, "in", fromB(icmp(13, 1))));
  denied(s.send(a, "in", fromB(icmp(13, 2))));
  denied(s.send(a, "in", fromB(icmp(15, 0))));
});

Deno.test("firewall: numeric IP protocols (GRE = 47)", () => {
  const s = new Scenario();
  const gre: LayerSpec[] = [
    { type: "ipv4", src: B.ip, dst: A.ip, proto: 47 },
    { type: "payload", data: new Uint8Array(8) },
  ];
  const a = port(s, [allowIn({ protocol: "47" })]);
  assertPassed(s.send(a, "in", fromB(gre)));
  denied(s.send(a, "in", fromB(tcp(22))));
  // 6 is TCP by number: the same filter as `tcp`.
  const s2 = new Scenario();
  const b = port(s2, [allowIn({ protocol: "6", ports: "22" })]);
  assertPassed(s2.send(b, "in", fromB(tcp(22))));
});

Deno.test("firewall: arp, and combinations that make no sense are refused naming the field", () => {
  const s = new Scenario();
  const a = port(s, []);
  a.setFirewall(firewallRulesFromText([allowIn({ protocol: "arp" })]));
  // The user's rule, not the built-in related-errors allowance that sits after every user rule.
  const names = a.port.layer("firewall").rules[1].list.map((r) => r.spec.name ?? "");
  assert.equal(names.filter((n) => /protocol=arp/.test(n)).length, 1, names.join("; "));
  assert.throws(
    () => a.setFirewall(firewallRulesFromText([allowIn({ protocol: "47", ports: "22" })])),
    /rules\[0\]\.ports: ports apply to tcp, udp or any/,
  );
  assert.throws(
    () => a.setFirewall(firewallRulesFromText([allowIn({ protocol: "icmp:3/5-2" })])),
    /rules\[0\]\.protocol: "icmp:3\/5-2" is not a protocol filter/,
  );
  assert.throws(
    () => a.setFirewall(firewallRulesFromText([allowIn({ protocol: "256" })])),
    /rules\[0\]\.protocol/,
  );
});
