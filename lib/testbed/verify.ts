// Reachability checks over a built topology: named pings run in parallel, each with its result.

import { run } from "./exec.ts";
import { BOUNDARY_UL, EXTERNAL_GW, GW_LL, Plan, ZONE_OVERLAY } from "./plan.ts";
import { Topology } from "./topology.ts";

/** One reachability check: `argv` run in `ns` must exit 0. */
export interface Check {
  name: string;
  ns: string;
  argv: string[];
}

/** The outcome of one check. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** A short ping from `ns` to `dst` (IPv6 when it contains a colon). */
export function ping(name: string, ns: string, dst: string, count = 2): Check {
  const fam = dst.includes(":") ? ["-6"] : ["-4"];
  return { name, ns, argv: ["ping", ...fam, "-c", `${count}`, "-w", "5", "-i", "0.2", dst] };
}

/** Same-sled underlay: zone-a ↔ zone-b through the switch. */
export function sameSledChecks(p: Plan): Check[] {
  const [za, zb] = p.sleds[0].zones;
  return [
    ping("zone-a → zone-b (same sled)", za.ns, zb.ip6),
    ping("zone-b → zone-a (same sled)", zb.ns, za.ip6),
  ];
}

/** Routed underlay: gateway LL, zone↔GZ, GZ↔sled2 GZ, zone↔sled2 zone (through the racks). */
export function routedChecks(p: Plan): Check[] {
  const [s1, s2] = p.sleds;
  const [za, zb] = s1.zones;
  return [
    ping("zone-a → gateway link-local", za.ns, `${GW_LL}%eth0`),
    ping("zone-a → sled1 host (xde0)", za.ns, s1.host),
    ping("sled1 host → zone-a", s1.ns, za.ip6),
    ping("sled1 host → sled2 host", s1.ns, s2.host),
    ping("zone-a → sled2 zone (via racks)", za.ns, s2.zones[0].ip6),
    ping("sled2 zone → zone-b (via racks)", s2.zones[0].ns, zb.ip6),
  ];
}

/** Every underlay path of issue 8. */
export function underlayChecks(p: Plan): Check[] {
  return [...sameSledChecks(p), ...routedChecks(p)];
}

/** The racks reach sled1's uplink link-locals, and zone-a reaches the boundary's address. */
export function rackChecks(p: Plan): Check[] {
  const s1 = p.sleds[0];
  return [
    ping("zone-a → boundary underlay", s1.zones[0].ns, BOUNDARY_UL),
    ...s1.uplinks.map((u) =>
      ping(
        `${u.rack.slice(p.prefix.length + 1)} → sled1 ${u.name} link-local`,
        u.rack,
        `${u.ll}%${u.rackPort}`,
      )
    ),
  ];
}

/** VPC checks: same-sled VM pair and VMs across sleds. */
export function vpcChecks(p: Plan): Check[] {
  const [s1, s2] = p.sleds;
  return [
    ping("vm0 → vm1 (same sled)", s1.vms[0].ns, s1.vms[1].ip4),
    ping("vm0 → sled2 vm0 (across sleds)", s1.vms[0].ns, s2.vms[0].ip4),
  ];
}

/** VPC IPv6 between instances (switch mode: the VMs have VPC_SUBNET6 addresses). */
export function vpc6Checks(p: Plan): Check[] {
  const [s1, s2] = p.sleds;
  return [
    ping("vm0 → vm1 IPv6 (same sled)", s1.vms[0].ns, s1.vms[1].ip6),
    ping("vm0 → sled2 vm0 IPv6", s1.vms[0].ns, s2.vms[0].ip6),
  ];
}

/** Off-rack: vm0 out through SNAT and boundary services; the outside in to zone-a's floating IP. */
export function externalChecks(p: Plan): Check[] {
  const [s1] = p.sleds;
  return [
    ping("vm0 → external (SNAT, boundary)", s1.vms[0].ns, p.external.ip4),
    ping("external → zone-a floating IP", p.external.ns, ZONE_OVERLAY.floating),
  ];
}

/** Checks that hold with OVS bridging each sled and Geneve between them. */
export function ovsChecks(p: Plan): Check[] {
  const [s1] = p.sleds;
  return [
    ping("zone-a → zone-b (same sled)", s1.zones[0].ns, s1.zones[1].ip6),
    ping("sled1 host → sled2 host", s1.ns, p.sleds[1].host),
    ...vpcChecks(p),
  ];
}

/** Checks that hold with the kernel stand-in (mode "kernel"). */
export function kernelChecks(p: Plan): Check[] {
  return [
    ...underlayChecks(p),
    ...rackChecks(p),
    ...vpcChecks(p),
    ping("external → boundary gateway", p.external.ns, EXTERNAL_GW),
  ];
}

/** Runs the checks in parallel. */
export async function verify(topo: Topology, checks?: Check[]): Promise<CheckResult[]> {
  const list = checks ?? (topo.mode === "kernel" ? kernelChecks(topo.plan) : []);
  return await Promise.all(list.map(async (c) => {
    const r = await run(c.argv, { ns: c.ns, check: false, timeoutMs: 15000 });
    const detail = r.code === 0 ? (r.stdout.match(/rtt [^\n]*/)?.[0] ?? "ok") : [
      // The first ICMP error ping reports (who says what) tells NDP failure from a drop.
      r.stdout.match(/^From [^\n]*/m)?.[0],
      r.stderr.trim() || r.stdout.trim().split("\n").slice(-2).join(" "),
    ].filter((x) => x).join(" | ");
    return { name: c.name, ok: r.code === 0, detail };
  }));
}

/** Formats results one per line: "ok   name  detail" / "FAIL name  detail". */
export function formatResults(results: CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 10);
  return results.map((r) => `${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(w)}  ${r.detail}`).join(
    "\n",
  );
}
