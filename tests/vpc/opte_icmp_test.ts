// Upstream OPTE's ICMP-error cases: icmp_inner_has_nat_applied and its ICMPv6 variant (errors
// about 1:1-mapped flows carry the translated address inside), and the rule that a user's firewall
// rules decide before xdeno's built-in "related errors" allowance.

import assert from "node:assert/strict";
import { type FirewallRuleInput, firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import { oxideExternalOption } from "../../lib/packet/geneve.ts";
import { cat } from "./frames.ts";
import {
  assertDropped,
  assertPassed,
  buildFrame,
  expectedOuter,
  flowHashOf,
  geneveFrame,
  GW_MAC,
} from "./harness.ts";
import { BS_MAC, BS_UNDERLAY, G1, guestPort, lab, VNI } from "./opte_setup.ts";

// multi_external_ip_setup(1, true): the first address of each family is the ephemeral IP.
const EPH4 = "10.60.1.1", EPH6 = "2001:db8::1";

function ephemeralGuest(s: ReturnType<typeof lab>, firewall?: FirewallRuleInput[]) {
  return guestPort(s, G1, {
    ext4: { snat: { ip: G1.snat, ports: "1025-4096" }, ephemeralIp: EPH4 },
    ext6: { snat: { ip: "2001:db8::ff", ports: "1025-4096" }, ephemeralIp: EPH6 },
    firewall: firewall && firewallRulesFromText(firewall),
  });
}

/** The UDP header upstream quotes: 0x1234 → 0x0034, length 0xf8, no checksum (truncated). */
const quotedUdp = (src: string, dst: string, v6: boolean): LayerSpec[] => [
  v6 ? { type: "ipv6", src, dst, hopLimit: 255 } : { type: "ipv4", src, dst, ttl: 0 },
  { type: "udp", srcPort: 0x1234, dstPort: 0x0034, checksum: "zero" },
];

Deno.test("icmp_inner_has_nat_applied: a time-exceeded the guest sends about a 1:1 (ephemeral) flow quotes the ephemeral IP", async (t) => {
  const s = lab();
  const g1 = ephemeralGuest(s);
  const remote = "4.4.4.4";
  const err = (src: string, quotedDst: string, sm: string, dm: string): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv4", src, dst: remote },
    { type: "icmpv4", kind: "timeExceeded" },
    ...quotedUdp(remote, quotedDst, false),
  ];
  const w = assertPassed(s.send(g1, "out", buildFrame(err(G1.ip, G1.ip, G1.mac, GW_MAC))));
  // Outer source and quoted destination are the ephemeral IP; all checksums valid (tshark).
  const inner = buildFrame(err(EPH4, EPH4, G1.mac, BS_MAC));
  const h = flowHashOf(inner);
  assert.deepEqual(w, cat(expectedOuter(G1.underlay, BS_UNDERLAY, 99, h, inner.length), inner));
  await s.tshark(t, "icmp_inner_has_nat_applied");
});

Deno.test("icmpv6_inner_has_nat_applied: an unreachable to the ephemeral IP reaches the guest quoting its private address", async (t) => {
  const s = lab();
  const g1 = ephemeralGuest(s, [
    { direction: "in", priority: 9, action: "allow", protocol: "icmpv6" },
  ]);
  const remote = "2001:4860:4860::8888";
  const err = (dst: string, quotedSrc: string, sm: string, dm: string): LayerSpec[] => [
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv6", src: remote, dst, hopLimit: 64 },
    { type: "icmpv6", kind: "destUnreachable", code: 4 },
    ...quotedUdp(quotedSrc, remote, true),
  ];
  const frame = geneveFrame(BS_UNDERLAY, G1.underlay, VNI, err(EPH6, EPH6, BS_MAC, G1.mac), [
    oxideExternalOption(),
  ]);
  const got = assertPassed(s.send(g1, "in", frame));
  assert.deepEqual(got, buildFrame(err(G1.ip6, G1.ip6, GW_MAC, G1.mac)));
  assert.equal(g1.counters.errorsTranslated, 1);
  await s.tshark(t, "icmpv6_inner_has_nat_applied");
});

Deno.test("related ICMP errors: a user's deny rule wins over the built-in allowance (which comes last)", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  const peer = "172.30.0.6";
  const udpOut: LayerSpec[] = [
    { type: "ethernet", src: G1.mac, dst: GW_MAC },
    { type: "ipv4", src: G1.ip, dst: peer },
    { type: "udp", srcPort: 40000, dstPort: 53 },
  ];
  assertPassed(s.send(g1, "out", buildFrame(udpOut)));
  const unreachable = geneveFrame("fd00:0:f7:116::1", G1.underlay, VNI, [
    { type: "ethernet", src: "a8:40:25:f0:00:66", dst: G1.mac },
    { type: "ipv4", src: peer, dst: G1.ip },
    { type: "icmpv4", kind: "destUnreachable", code: 3 },
    { type: "ipv4", src: G1.ip, dst: peer },
    { type: "udp", srcPort: 40000, dstPort: 53 },
  ]);
  // Without a user rule about it, the error about the guest's own flow is let in.
  assertPassed(s.send(g1, "in", unreachable));
  // A user's "deny inbound ICMP" now drops it, even at the lowest user priority.
  g1.setFirewall(
    firewallRulesFromText([{ direction: "in", priority: 65535, action: "deny", protocol: "icmp" }]),
  );
  const o = s.send(g1, "in", unreachable);
  assertDropped(o, "firewall deny");
  assert.equal(o.layer, "firewall");
  await s.tshark(t, "related errors after user rules");
});
