// The control model through the runtime: router tables, attached subnets / transit IPs, external
// IPs with inet_gw_map and V2B entries with their VNIs reach the VPC port and the sled's
// tables as given (nothing implicit, nothing forced).

import assert from "node:assert/strict";
import { firewallRuleText } from "../../lib/vpc/firewall_text.ts";
import { stateFromConfig } from "../../lib/config/resources.ts";
import { SwitchDatapath } from "../../lib/runtime/mod.ts";
import type { VpcPort } from "../../lib/vpc/vpc_port.ts";
import { initialChanges, inProcess, sledConfig, VA } from "./fixture.ts";

async function rig() {
  const r = inProcess(sledConfig());
  for (const c of initialChanges(sledConfig())) await r.dp.apply(c);
  const dp = r.dp as SwitchDatapath;
  const vpc = () => dp.sw.port(VA.name)!.pipeline as VpcPort;
  return { r, dp, vpc };
}

Deno.test("runtime: the router resource is the port's whole table, system routes included", async () => {
  const { r, vpc } = await rig();
  try {
    // vm-a (172.30.0.10/22, no routes in the config): its seeded system routes.
    assert.deepEqual(vpc().routes.list(), [
      {
        dest: "172.30.0.0/22",
        target: { kind: "vpc-subnet", cidr: "172.30.0.0/22" },
        class: "system",
      },
      { dest: "0.0.0.0/0", target: { kind: "internet-gateway" }, class: "system" },
    ]);
    const igw = { kind: "internet-gateway" as const, id: "00000000-0000-0000-0000-000000000001" };
    await r.dp.apply({
      kind: "router",
      key: VA.name,
      value: [{ destination: "0.0.0.0/0", target: igw, class: "system" }],
    });
    assert.deepEqual(vpc().routes.list(), [{ dest: "0.0.0.0/0", target: igw, class: "system" }]);
    await r.dp.apply({ kind: "router", key: VA.name, value: null });
    assert.deepEqual(vpc().routes.list(), []);
  } finally {
    await r.close();
  }
});

Deno.test("runtime: subnets and inet_gw_map reach the port", async () => {
  const { r, vpc } = await rig();
  try {
    const subnets = {
      attached: [{ cidr: "8.0.0.0/8", external: true }],
      transit: [{ cidr: "192.168.0.0/16", allowIn: true, allowOut: false }],
    };
    await r.dp.apply({ kind: "subnets", key: VA.name, value: subnets });
    assert.deepEqual(vpc().subnets(), subnets);
    await r.dp.apply({
      kind: "externalIps",
      key: VA.name,
      value: { ephemeral: ["203.0.113.5"], floating: [], inetGwMap: { "203.0.113.5": ["igw-a"] } },
    });
    assert.deepEqual([...vpc().nat.external(4)!.inetGw.get("203.0.113.5")!], ["igw-a"]);
    await r.dp.apply({ kind: "subnets", key: VA.name, value: null });
    assert.deepEqual(vpc().subnets(), { attached: [], transit: [] });
  } finally {
    await r.close();
  }
});

Deno.test("runtime: V2B endpoints keep their VNI; a prefix's entries across VNIs add up", async () => {
  const { r, dp } = await rig();
  try {
    const dump = () =>
      dp.mappings.v2b.dump().filter((e) => e.prefix === "198.51.100.0/24").map((e) => e.endpoints);
    await r.dp.apply({
      kind: "v2b",
      key: "77/198.51.100.0/24",
      value: { vni: 77, prefix: "198.51.100.0/24", endpoints: ["fd00:99::1"] },
    });
    assert.deepEqual(dump(), [[{ ip: "fd00:99::1", vni: 77 }]]);
    await r.dp.apply({
      kind: "v2b",
      key: "99/198.51.100.0/24",
      value: { vni: 99, prefix: "198.51.100.0/24", endpoints: ["fd00:99::2"] },
    });
    assert.deepEqual(dump(), [[{ ip: "fd00:99::1", vni: 77 }, { ip: "fd00:99::2", vni: 99 }]]);
    await r.dp.apply({ kind: "v2b", key: "77/198.51.100.0/24", value: null });
    assert.deepEqual(dump(), [[{ ip: "fd00:99::2", vni: 99 }]]);
    await r.dp.apply({ kind: "v2b", key: "99/198.51.100.0/24", value: null });
    assert.deepEqual(dump(), []);
  } finally {
    await r.close();
  }
});

Deno.test("runtime: the VPC's default firewall rule is a listed entry; without it nothing is implied", async () => {
  const { r, vpc } = await rig();
  try {
    // vm-a names no rules in the config: it gets the default inbound rule, as Omicron sends it.
    assert.deepEqual(stateFromConfig(sledConfig()).firewall.get(VA.name), [
      { id: 0, direction: "in", priority: 65534, action: "allow", protocol: "any", host: "vni:10" },
    ]);
    assert.deepEqual(vpc().firewallRules().map(firewallRuleText), [
      {
        id: 0,
        direction: "in",
        priority: 65534,
        action: "allow",
        hosts: "vni=10",
        protocol: "any",
        ports: "any",
      },
    ]);
    await r.dp.apply({ kind: "firewall", key: VA.name, value: null });
    assert.deepEqual(vpc().firewallRules(), []);
  } finally {
    await r.close();
  }
});

Deno.test("runtime: firewall filters (port list, icmp code range, protocol number) reach the port", async () => {
  const { r, vpc } = await rig();
  try {
    await r.dp.apply({
      kind: "firewall",
      key: VA.name,
      value: [
        {
          direction: "in",
          priority: 10,
          action: "allow",
          protocol: "tcp",
          ports: "22,8000-8080",
          host: "any",
        },
        {
          direction: "in",
          priority: 11,
          action: "allow",
          protocol: "icmp",
          icmp: { type: 3, codes: [0, 4] },
          host: "vni:10",
        },
        { direction: "out", priority: 12, action: "deny", protocol: 47, host: "10.0.0.0/8" },
      ],
    });
    assert.deepEqual(
      vpc().firewallRules().map(firewallRuleText).map((x) => [x.protocol, x.ports, x.hosts]),
      [
        ["tcp", "22,8000-8080", "any"],
        ["icmp:3/0-4", "any", "vni=10"],
        ["47", "any", "subnet=10.0.0.0/8"],
      ],
    );
  } finally {
    await r.close();
  }
});
