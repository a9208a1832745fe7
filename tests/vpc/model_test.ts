import assert from "node:assert/strict";
import { parseIp } from "../../lib/packet/bytes.ts";
import {
  chooseExternal,
  EXT_EPHEMERAL,
  EXT_FLOATING,
  EXT_NONE,
  EXT_SNAT,
  isOneToOne,
  PortPool,
  SnatPools,
  stillAssigned,
  validateExternalIps,
} from "../../lib/vpc/external.ts";
import {
  checkFirewallRules,
  type FirewallPacket,
  firewallVerdict,
  sortFirewallRules,
} from "../../lib/vpc/firewall_rules.ts";
import {
  firewallRuleText,
  formatFirewallRule,
  parseFirewallRule,
  validateFirewallRule,
  validateFirewallRules,
} from "../../lib/vpc/firewall_text.ts";
import { parseAddrWords } from "../../lib/packet/addr.ts";
import { formatErrors, orThrow } from "../../lib/vpc/validate.ts";

Deno.test("SNAT port pool (upstream order): highest first, released ports reused last in first out, double release refused", () => {
  const p = new PortPool(1024, 1027);
  const got = [p.allocate(), p.allocate(), p.allocate(), p.allocate()];
  assert.deepEqual(got, [1027, 1026, 1025, 1024]);
  assert.equal(p.allocate(), -1);
  assert.equal(p.allocate(), -1);
  assert.equal(p.exhausted, 2);
  assert.equal(p.inUse, 4);
  assert.equal(p.release(1025), true);
  assert.equal(p.release(1025), false);
  assert.equal(p.release(999), false);
  assert.equal(p.release(1027), true);
  assert.equal(p.available, 2);
  // The last port released is the next one handed out.
  assert.equal(p.allocate(), 1027);
  assert.equal(p.allocate(), 1025);
  assert.equal(p.allocate(), -1);
});

Deno.test("SNAT pools are per protocol; ICMP and ICMPv6 echo share one", () => {
  const s = new SnatPools("203.0.113.9", 2000, 2000);
  assert.equal(s.pool(6)!.allocate(), 2000);
  assert.equal(s.pool(17)!.allocate(), 2000);
  assert.equal(s.pool(1)!.allocate(), 2000);
  assert.equal(s.pool(58)!.allocate(), -1);
  assert.equal(s.pool(47), null);
  assert.deepEqual([...s.ip], [203, 0, 113, 9]);
});

Deno.test("external IPs: validation names fields; choice floating > ephemeral > snat > none", () => {
  const bad = validateExternalIps({
    snat: { ip: "fd00::1", ports: "2048-1024" },
    ephemeralIp: "300.1.1.1",
    floatingIps: ["198.51.100.1", "nope"],
    attachedSubnets: ["10.1.0.0/33"],
  }, 4);
  assert.ok(!bad.ok);
  assert.equal(
    formatErrors(bad.errors),
    [
      "external.v4.snat.ip: fd00::1 is not an IPv4 address",
      'external.v4.snat.ports: "2048-1024" is not a port range (expected lo-hi within 1-65535)',
      'external.v4.ephemeralIp: "300.1.1.1" is not an IP address',
      'external.v4.floatingIps[1]: "nope" is not an IP address',
      'external.v4.attachedSubnets[0]: "10.1.0.0/33" is not an IPv4 prefix',
    ].join("\n"),
  );
  const full = orThrow(validateExternalIps({
    snat: { ip: "203.0.113.9", ports: "1024-2047" },
    ephemeralIp: "203.0.113.10",
    floatingIps: ["198.51.100.1", "198.51.100.2"],
  }, 4));
  assert.equal(chooseExternal(full, 0).kind, EXT_FLOATING);
  assert.deepEqual([...chooseExternal(full, 1).ip!], [198, 51, 100, 2]);
  assert.deepEqual([...chooseExternal(full, 2).ip!], [198, 51, 100, 1]);
  const eph = orThrow(
    validateExternalIps(
      { ephemeralIp: "203.0.113.10", snat: { ip: "203.0.113.9", ports: "1-2" } },
      4,
    ),
  );
  assert.equal(chooseExternal(eph, 7).kind, EXT_EPHEMERAL);
  const sn = orThrow(validateExternalIps({ snat: { ip: "203.0.113.9", ports: "1-2" } }, 4));
  assert.equal(chooseExternal(sn, 7).kind, EXT_SNAT);
  assert.equal(chooseExternal(orThrow(validateExternalIps({}, 4)), 7).kind, EXT_NONE);
  assert.equal(chooseExternal(null, 7).kind, EXT_NONE);
  assert.ok(stillAssigned(full, parseIp("198.51.100.2")!));
  assert.ok(!stillAssigned(sn, parseIp("198.51.100.2")!));
  assert.ok(isOneToOne(full, parseIp("203.0.113.10")!));
  assert.ok(!isOneToOne(full, parseIp("203.0.113.9")!)); // SNAT address takes no inbound
});

const pkt = (over: Partial<FirewallPacket> & { ip?: string }): FirewallPacket => {
  const a = parseAddrWords(over.ip ?? "10.0.0.9")!;
  return {
    af: a.af,
    remote: a.words,
    vni: 10,
    proto: 6,
    dstPort: 22,
    icmpType: -1,
    icmpCode: -1,
    ...over,
  };
};

Deno.test("firewall model: text form, matching, priority and deny-first ties, defaults", () => {
  const rules = sortFirewallRules([
    orThrow(parseFirewallRule("dir=in action=allow priority=100 protocol=tcp ports=22,8000-8080")),
    orThrow(
      parseFirewallRule(
        "dir=in action=deny priority=100 protocol=tcp ports=8080 hosts=subnet=10.0.1.0/24",
      ),
    ),
    orThrow(parseFirewallRule("dir=in action=allow priority=50 protocol=icmp:8/0")),
    orThrow(parseFirewallRule("dir=in action=allow priority=60 hosts=vni=77")),
    orThrow(parseFirewallRule("dir=out action=deny priority=10 hosts=ip=192.0.2.1")),
  ]);
  assert.equal(firewallVerdict(rules, "in", pkt({})), "allow");
  assert.equal(firewallVerdict(rules, "in", pkt({ dstPort: 23 })), "deny"); // default inbound
  assert.equal(firewallVerdict(rules, "in", pkt({ dstPort: 8080 })), "allow");
  assert.equal(firewallVerdict(rules, "in", pkt({ dstPort: 8080, ip: "10.0.1.5" })), "deny");
  assert.equal(firewallVerdict(rules, "in", pkt({ dstPort: 8079, ip: "10.0.1.5" })), "allow");
  assert.equal(firewallVerdict(rules, "in", pkt({ proto: 17 })), "deny");
  assert.equal(firewallVerdict(rules, "in", pkt({ proto: 1, icmpType: 8, icmpCode: 0 })), "allow");
  assert.equal(firewallVerdict(rules, "in", pkt({ proto: 1, icmpType: 13, icmpCode: 0 })), "deny");
  assert.equal(firewallVerdict(rules, "in", pkt({ proto: 17, vni: 77 })), "allow");
  assert.equal(firewallVerdict(rules, "out", pkt({ ip: "192.0.2.1" })), "deny");
  assert.equal(firewallVerdict(rules, "out", pkt({ ip: "192.0.2.2" })), "allow"); // default out
  assert.equal(firewallVerdict(rules, "out", pkt({ ip: "fd00::1" })), "allow");
});

Deno.test("firewall model: validation errors name the field and say what is right", () => {
  const v = validateFirewallRules([
    { direction: "in", priority: 1, action: "allow" },
    {
      direction: "sideways" as "in",
      priority: 70000,
      action: "allow",
      hosts: "ip=1.2.3",
      protocol: "sctp",
      ports: "22,70000",
    },
    { direction: "in", priority: 1, action: "deny", protocol: "icmp", ports: "22" },
  ]);
  assert.ok(!v.ok);
  assert.deepEqual(v.errors.map((e) => e.field), [
    "rules[1].direction",
    "rules[1].priority",
    "rules[1].hosts",
    "rules[1].protocol",
    "rules[1].ports",
    "rules[2].ports",
  ]);
  assert.equal(
    v.errors[4].message,
    '"70000" is not a port or range (expected 0-65535 or lo-hi)',
  );
  const t = parseFirewallRule("dir=in bogus");
  assert.ok(!t.ok && t.errors[0].message.startsWith('"bogus" is not key=value'));
  const ok = validateFirewallRule({
    direction: "out",
    priority: 0,
    action: "deny",
    protocol: "icmpv6:135",
  });
  assert.ok(ok.ok && ok.value.protocol.kind === "icmpv6" && ok.value.protocol.type === 135);
});

Deno.test("firewall model: typed rules are checked naming the field; text renders them back", () => {
  const bad = checkFirewallRules([
    {
      direction: "in",
      priority: 1,
      action: "allow",
      hosts: { kind: "vni", vni: 1 << 24 },
      protocol: { kind: "icmp", type: 3, codeLo: 4, codeHi: 0 },
      ports: null,
    },
    {
      direction: "out",
      priority: 2,
      action: "deny",
      hosts: { kind: "any" },
      protocol: { kind: "arp" },
      ports: [22, 22],
    },
  ]);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors.map((e) => e.field), [
    "rules[0].hosts",
    "rules[0].protocol",
    "rules[1].ports",
  ]);
  const r = orThrow(parseFirewallRule(
    "dir=in action=allow priority=7 hosts=subnet=10.0.1.0/24 protocol=tcp ports=22,8000-8080",
  ));
  assert.deepEqual(r.ports, [22, 22, 8000, 8080]);
  assert.equal(
    formatFirewallRule(r),
    "dir=in action=allow priority=7 hosts=subnet=10.0.1.0/24 protocol=tcp ports=22,8000-8080",
  );
  const icmp = orThrow(parseFirewallRule("dir=out action=deny priority=1 protocol=icmpv6:1/3-4"));
  assert.deepEqual(firewallRuleText(icmp), {
    direction: "out",
    priority: 1,
    action: "deny",
    hosts: "any",
    protocol: "icmpv6:1/3-4",
    ports: "any",
  });
});
