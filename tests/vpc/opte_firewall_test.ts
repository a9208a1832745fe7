// Upstream OPTE's firewall and port-state integration tests (firewall_tests.rs,
// integration_tests.rs), expectations taken from upstream's stated behaviour.

import assert from "node:assert/strict";
import { firewallRuleFromText, firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { PortStateError } from "../../lib/engine/port.ts";
import {
  assertDropped,
  assertPassed,
  buildFrame as buildFrameOf,
  GW_MAC,
  RES_ERROR,
} from "./harness.ts";
import {
  flows,
  fromGuest,
  fromWeb,
  G1,
  G2,
  guestPort,
  http,
  innerSrcPort,
  lab,
  tcpState,
  VNI,
  WEB,
} from "./opte_setup.ts";

const synTo = (dst: string) => fromGuest(G1, "syn", dst);

Deno.test("firewall_replace_rules: a replace cuts the firewall's flows; a revoked allow drops the next packet", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1), g2 = guestPort(s, G2);
  g2.addFirewallRule(
    firewallRuleFromText({ direction: "in", priority: 10, action: "allow", protocol: "tcp" }),
  );
  const e1 = g1.port.epoch;
  assertPassed(s.send(g1, "out", buildSyn()));
  assert.deepEqual(flows(g1), { "uft.out": 1, "uft.in": 0, "firewall.flows": 1 });
  // Replace g1's outbound rules with ones that still allow TCP: flows are cleared, traffic passes.
  g1.setFirewall(firewallRulesFromText([
    { direction: "out", priority: 65535, action: "deny", protocol: "any" },
    { direction: "out", priority: 1000, action: "allow", protocol: "tcp" },
  ]));
  assert.ok(g1.port.epoch > e1);
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0 });
  const wire = assertPassed(s.send(g1, "out", buildSyn()));
  assert.equal(g1.result.fastPath, false);
  assert.deepEqual(flows(g1), { "uft.out": 1, "uft.in": 0, "firewall.flows": 1 });
  // g2 receives it.
  const copy = wire.slice();
  assertPassed(s.send(g2, "in", wire));
  assert.deepEqual(flows(g2), { "uft.out": 0, "uft.in": 1, "firewall.flows": 1 });
  // Replace g2's rules with "deny inbound TCP": its established flow state is gone at once
  // and the same packet is now dropped by the firewall rule.
  g2.setFirewall(
    firewallRulesFromText([{ direction: "in", priority: 1000, action: "deny", protocol: "tcp" }]),
  );
  assert.deepEqual(flows(g2), { "uft.out": 0, "uft.in": 0 });
  const o = s.send(g2, "in", copy);
  assertDropped(o, "firewall deny");
  assert.equal(o.layer, "firewall");
  assert.notEqual(g2.result.rule, -1); // a rule, not the layer default
  assert.deepEqual(flows(g2), { "uft.out": 0, "uft.in": 0 });
  await s.tshark(t, "firewall_replace_rules");

  function buildSyn() {
    return buildFrameOf(synTo(G2.ip));
  }
});

/** Upstream's establish_http_conn: SYN out, SYN-ACK in, ACK out; returns the SNAT port. */
function establish(s: ReturnType<typeof lab>, g1: ReturnType<typeof guestPort>): number {
  const syn = assertPassed(s.send(g1, "out", buildFrameOf(fromGuest(G1, "syn", WEB))));
  const snatPort = innerSrcPort(syn);
  assertPassed(s.send(g1, "in", fromWeb(G1, "synAck", snatPort)));
  assertPassed(s.send(g1, "out", buildFrameOf(fromGuest(G1, "ack", WEB))));
  assert.equal(tcpState(g1), "ESTABLISHED");
  return snatPort;
}

Deno.test("uft_lft_invalidation_out: after a deny-all replace the next outbound segment is dropped by the rule", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  establish(s, g1);
  assert.deepEqual(flows(g1), {
    "uft.out": 1,
    "uft.in": 1,
    "firewall.flows": 1,
    "nat.flows": 1,
  });
  g1.setFirewall(
    firewallRulesFromText([{ direction: "out", priority: 65535, action: "deny", protocol: "any" }]),
  );
  // The firewall's flows are gone (set:firewall.flows=0); NAT keeps its binding.
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0, "nat.flows": 1 });
  const o = s.send(g1, "out", buildFrameOf(fromGuest(G1, "get", WEB)));
  assertDropped(o, "firewall deny");
  assert.equal(o.layer, "firewall");
  assert.notEqual(g1.result.rule, -1);
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0, "nat.flows": 1 });
  await s.tshark(t, "uft_lft_invalidation_out");
});

Deno.test("uft_lft_invalidation_in: after the replace the server's next segment is dropped by the default", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  const port = establish(s, g1);
  assertPassed(s.send(g1, "out", buildFrameOf(fromGuest(G1, "get", WEB))));
  assert.equal(g1.result.fastPath, true);
  assertPassed(s.send(g1, "in", fromWeb(G1, "getAck", port)));
  assert.equal(g1.result.fastPath, true);
  g1.setFirewall(
    firewallRulesFromText([{ direction: "out", priority: 65535, action: "deny", protocol: "any" }]),
  );
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0, "nat.flows": 1 });
  const o = s.send(g1, "in", fromWeb(G1, "reply301", port));
  assertDropped(o, "default deny");
  assert.equal(o.layer, "firewall");
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0, "nat.flows": 1 });
  await s.tshark(t, "uft_lft_invalidation_in");
});

Deno.test("firewall_vni_outbound: out vni=X matches destinations whose V2P VNI is X; internet traffic has none", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  // g2 lives in another VPC (VNI 1234) that g1's sled knows about.
  const other = "172.30.0.9";
  s.mappings.v2p.set(1234, other, G2.mac, G2.underlay);
  g1.setFirewall(firewallRulesFromText([
    { direction: "out", priority: 65535, action: "deny", protocol: "any" },
    { direction: "out", priority: 1000, action: "allow", hosts: `vni=${VNI}` },
  ]));
  const o = s.send(g1, "out", buildFrameOf(synTo(other)));
  assertDropped(o, "firewall deny");
  assert.equal(o.layer, "firewall");
  // A peer in g1's own VPC is tagged with g1's VNI and passes.
  assertPassed(s.send(g1, "out", buildFrameOf(synTo(G2.ip))));
  // The internet is in no V2P: no VNI tag, so `vni=` does not let it out.
  assertDropped(s.send(g1, "out", buildFrameOf(synTo(WEB))), "firewall deny");
  // And "allow vni=1234" lets g1 reach the other VPC's address but still not the internet.
  g1.setFirewall(firewallRulesFromText([
    { direction: "out", priority: 65535, action: "deny", protocol: "any" },
    { direction: "out", priority: 1000, action: "allow", hosts: "vni=1234" },
  ]));
  assertDropped(s.send(g1, "out", buildFrameOf(synTo(G2.ip))), "firewall deny");
  assertDropped(s.send(g1, "out", buildFrameOf(synTo(WEB))), "firewall deny");
  const r = s.send(g1, "out", buildFrameOf(synTo(other)));
  assert.notEqual(r.layer, "firewall", `${r.layer} ${r.reason}`);
  await s.tshark(t, "firewall_vni_outbound");
});

Deno.test("port_transition_pause: a paused port refuses rule and flow changes (BadState) and packets; inspection works", () => {
  const s = lab();
  const g1 = guestPort(s, G1), g2 = guestPort(s, G2);
  g1.addFirewallRule(firewallRuleFromText({
    direction: "in",
    priority: 10,
    action: "allow",
    protocol: "tcp",
    ports: "80",
  }));
  const syn = http("syn", { src: G2.ip, dst: G1.ip, sport: 44490, dport: 80 }, G2.mac, GW_MAC);
  const wire = assertPassed(s.send(g2, "out", buildFrameOf(syn)));
  assertPassed(s.send(g1, "in", wire));
  g2.port.pause();
  assert.equal(g2.port.stateName, "paused");
  // Introspection is allowed.
  g2.port.dumpLayer("firewall");
  g2.port.dumpTcp();
  g2.port.dumpUft(0);
  const before = g2.firewallRules();
  const refused = (f: () => unknown) => assert.throws(f, PortStateError);
  refused(() => g2.port.clearFlows());
  refused(() =>
    g2.removeRoute({
      dest: "172.30.0.0/22",
      target: { kind: "vpc-subnet", cidr: "172.30.0.0/22" },
      class: "system",
    })
  );
  refused(() =>
    g2.addFirewallRule(
      firewallRuleFromText({ direction: "in", priority: 10, action: "allow", protocol: "tcp" }),
    )
  );
  refused(() =>
    g2.setFirewall(
      firewallRulesFromText([{ direction: "in", priority: 10, action: "allow", protocol: "tcp" }]),
    )
  );
  refused(() => g2.setExternalIps({ v4: {} }));
  assert.throws(
    () => g2.setFirewall(firewallRulesFromText([])),
    /port g2 is paused: rule change refused/,
  );
  assert.deepEqual(g2.firewallRules(), before);
  assert.equal(g2.port.expire(10_000_000), 0);
  assert.equal(flows(g2)["firewall.flows"], 1);
  assert.equal(s.send(g2, "out", buildFrameOf(syn)).code, RES_ERROR);
  // Running again, the SYN-ACK comes back through the state kept while paused.
  g2.port.start();
  const synAck = http(
    "synAck",
    { src: G1.ip, dst: G2.ip, sport: 80, dport: 44490 },
    G1.mac,
    GW_MAC,
  );
  const back = assertPassed(s.send(g1, "out", buildFrameOf(synAck)));
  assertPassed(s.send(g2, "in", back));
});
