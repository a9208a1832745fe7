// The test bed's xdeno configs: valid under the config schema, consistent with the plan, and
// turned by the product's runtime (which the runner uses) into the mappings the e2e tests rely on
// (memory links, no root needed).
import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";
import type { Config } from "../../lib/config/schema.ts";
import {
  BOUNDARY_UL,
  makePlan,
  SERVICES_VNI,
  VPC_VNI,
  ZONE_OVERLAY,
} from "../../lib/testbed/plan.ts";
import { natEntries, sledConfigs, toYaml } from "../../lib/testbed/sled_config.ts";
import { diffStates, emptyState, stateFromConfig } from "../../lib/config/resources.ts";
import { MemoryPlatform } from "../../lib/runtime/platform.ts";
import { SwitchDatapath } from "../../lib/runtime/runtime.ts";
import { firewallInput } from "../../lib/runtime/translate.ts";
import type { FirewallRule } from "../../lib/config/schema.ts";
import { firewallRuleText } from "../../lib/vpc/firewall_text.ts";

const plan = makePlan("tbcfg");

function parsed(n: number): Config {
  const r = parseConfigText(toYaml(sledConfigs(plan)[n]));
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.problems));
  return r.config;
}

Deno.test("sled configs: YAML passes the config schema; ports and links follow the plan", () => {
  for (const [i, s] of plan.sleds.entries()) {
    const c = parsed(i);
    assert.equal(c.sled.underlayAddress, s.host);
    assert.deepEqual(c.underlay.links.map((l) => [l.name, l.linkLocal]), [
      ["ul0", `fe80::${s.n}:1`],
      ["ul1", `fe80::${s.n}:2`],
    ]);
    assert.deepEqual(c.underlay.routes[0].nextHops.map((h) => h.link), ["ul0", "ul1"]);
    const ports = c.ports.map((p) => `${p.kind}:${p.name}:${p.mac}`);
    assert.deepEqual(ports, [
      `host:xde0:${s.hostMac}`,
      ...s.zones.map((z) => `system:${z.port}:${z.mac}`),
      ...s.vms.map((v) => `instance:${v.port}:${v.mac}`),
    ]);
    for (const v of s.vms) {
      const p = c.ports.find((x) => x.name === v.port)!;
      assert.deepEqual(p.overlay, { vni: VPC_VNI, ipv4: `${v.ip4}/22`, ipv6: `${v.ip6}/64` });
      assert.deepEqual(p.externalIps?.snat, { ip: v.snat, ports: [1024, 16383] });
    }
  }
  const za = parsed(0).ports.find((p) => p.name === "vza")!;
  assert.equal(za.overlay?.vni, SERVICES_VNI);
  assert.deepEqual(za.externalIps?.floating, [ZONE_OVERLAY.floating]);
  assert.equal(parsed(1).ports.find((p) => p.name === "vza")!.overlay, undefined);
});

Deno.test("sled configs: V2P has every VM of both sleds (v4 and v6) on its own sled", () => {
  const want = plan.sleds.flatMap((s) =>
    s.vms.flatMap((v) => [`${v.ip4}@${s.host}`, `${v.ip6}@${s.host}`])
  ).sort();
  for (const i of [0, 1]) {
    const cfg = parsed(i);
    const dp = new SwitchDatapath(cfg, new MemoryPlatform());
    for (const c of diffStates(emptyState(), stateFromConfig(cfg))) dp.applyNow(c);
    const m = dp.mappings;
    const got = m.v2p.dump().map((e) => `${e.ip}@${e.underlay}`).sort();
    assert.deepEqual(got, want);
    assert.deepEqual(m.v2b.dump().map((e) => [e.prefix, e.endpoints]).sort(), [
      ["0.0.0.0/0", [{ ip: BOUNDARY_UL, vni: 99 }]],
      ["::/0", [{ ip: BOUNDARY_UL, vni: 99 }]],
    ]);
  }
});

Deno.test("boundary NAT table: each external IP goes to the owning sled, VNI and MAC", () => {
  const [s1, s2] = plan.sleds;
  const got = natEntries(plan).map((e) => `${e.externalIp} ${e.underlay} ${e.vni} ${e.mac}`);
  assert.deepEqual(
    got.sort(),
    [
      `${s1.vms[0].snat} ${s1.host} ${VPC_VNI} ${s1.vms[0].mac}`,
      `${s1.vms[1].snat} ${s1.host} ${VPC_VNI} ${s1.vms[1].mac}`,
      `${s2.vms[0].snat} ${s2.host} ${VPC_VNI} ${s2.vms[0].mac}`,
      `${ZONE_OVERLAY.floating} ${s1.host} ${SERVICES_VNI} ${s1.zones[0].mac}`,
    ].sort(),
  );
});

Deno.test("config firewall rules reach lib/vpc as typed rules (compared through their text form)", () => {
  const rules = [
    { direction: "in", priority: 10, action: "allow", protocol: "icmp6", host: "vni:7" },
    {
      direction: "out",
      priority: 20,
      action: "deny",
      protocol: "tcp",
      ports: "22",
      host: "10.0.0.0/8",
    },
  ] as FirewallRule[];
  assert.deepEqual(rules.map(firewallInput).map(firewallRuleText), [
    {
      direction: "in",
      priority: 10,
      action: "allow",
      protocol: "icmpv6",
      ports: "any",
      hosts: "vni=7",
    },
    {
      direction: "out",
      priority: 20,
      action: "deny",
      protocol: "tcp",
      ports: "22",
      hosts: "subnet=10.0.0.0/8",
    },
  ]);
});
