// The demo's tour: every path of issue 8 once (ping, TCP, address configuration), as rows of a
// table. Each step catches its own failure so that one broken path never hides the others.

import { dhcp4, dhcp6, routerAdvert } from "./clients.ts";
import { run } from "./exec.ts";
import { tcpThroughput } from "./measure.ts";
import { ZONE_OVERLAY } from "./plan.ts";
import { Topology } from "./topology.ts";
import { adminUrl, SERVICE } from "./xdeno_sut.ts";
import {
  Check,
  externalChecks,
  routedChecks,
  sameSledChecks,
  verify,
  vpc6Checks,
  vpcChecks,
} from "./verify.ts";

/** One row of the tour. */
export interface TourRow {
  group: string;
  name: string;
  ok: boolean;
  detail: string;
}

const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;

async function pings(group: string, t: Topology, checks: Check[]): Promise<TourRow[]> {
  return (await verify(t, checks)).map((r) => ({
    group,
    ...r,
    detail: r.detail.replace(
      /^rtt min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\/.*$/,
      "ping rtt avg $1 ms",
    ),
  }));
}

async function tcp(
  name: string,
  client: string,
  server: string,
  dst: string,
  seconds: number,
): Promise<TourRow> {
  try {
    const r = await tcpThroughput({ client, server, dst }, seconds);
    return {
      group: "tcp",
      name,
      ok: r.bytes > 1e5,
      detail: `${r.gbps.toFixed(2)} Gbit/s, ${r.retransmits} retransmits`,
    };
  } catch (e) {
    return { group: "tcp", name, ok: false, detail: (e as Error).message.split("\n")[0] };
  }
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** `xdeno list-ports` against each sled's admin API: one row per sled, its port count. */
async function adminRows(t: Topology): Promise<TourRow[]> {
  return await Promise.all(t.plan.sleds.map(async (s): Promise<TourRow> => {
    const name = `sled${s.n} list-ports`;
    const want = 1 + s.zones.length + s.vms.length;
    const r = await run(
      [Deno.execPath(), "run", "-A", MAIN, "list-ports", "--url", adminUrl(s.n)],
      { ns: s.ns, check: false },
    );
    if (r.code !== 0) return { group: "admin", name, ok: false, detail: r.stderr.trim() };
    const ports = r.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0]);
    const running = r.stdout.split("\n").filter((l) => l.includes("running")).length;
    return {
      group: "admin",
      name,
      ok: ports.length === want && running === want,
      detail: `${ports.length} ports (${running} running): ${ports.join(" ")}`,
    };
  }));
}

/** Runs the tour on a topology with xdeno running; `seconds` per TCP transfer. */
export async function tour(t: Topology, seconds = 2): Promise<TourRow[]> {
  const p = t.plan, [s1, s2] = p.sleds;
  const rows: TourRow[] = [];
  if (SERVICE) rows.push(...await adminRows(t));
  rows.push(...await pings("underlay", t, [...sameSledChecks(p), ...routedChecks(p)]));
  rows.push(...await pings("overlay", t, [...vpcChecks(p), ...vpc6Checks(p)]));
  rows.push(...await pings("external", t, externalChecks(p)));
  const flows: [string, string, string, string][] = [
    ["zone-a → zone-b", s1.zones[0].ns, s1.zones[1].ns, s1.zones[1].ip6],
    ["zone-a → sled2 zone (racks)", s1.zones[0].ns, s2.zones[0].ns, s2.zones[0].ip6],
    ["vm0 → sled2 vm0 (Geneve)", s1.vms[0].ns, s2.vms[0].ns, s2.vms[0].ip4],
    ["vm0 → vm1 (same sled)", s1.vms[0].ns, s1.vms[1].ns, s1.vms[1].ip4],
    ["vm0 → external (SNAT)", s1.vms[0].ns, p.external.ns, p.external.ip4],
    ["external → zone-a floating IP", p.external.ns, s1.zones[0].ns, ZONE_OVERLAY.floating],
  ];
  for (const [name, c, s, d] of flows) rows.push(await tcp(name, c, s, d, seconds));
  // Address configuration last: it rewrites vm1's addresses.
  const vm = s1.vms[1];
  await run(["ip", "addr", "flush", "dev", "eth0", "scope", "global"], { ns: vm.ns });
  for (
    const [name, f] of [
      ["DHCPv4 (dhclient)", () => dhcp4(vm.ns)],
      ["RA (rdisc6)", () => routerAdvert(vm.ns)],
      ["DHCPv6 (dhclient -6)", () => dhcp6(vm.ns)],
    ] as const
  ) {
    const t0 = performance.now();
    try {
      const l = await f();
      const ok = l.ok;
      rows.push({
        group: "vm1 config",
        name,
        ok,
        detail: [l.address ?? l.note ?? "nothing", l.router && `router ${l.router}`, ms(t0)]
          .filter((x) => x).join(", "),
      });
    } catch (e) {
      rows.push({ group: "vm1 config", name, ok: false, detail: (e as Error).message });
    }
  }
  return rows;
}

/** The tour as a readable table. */
export function formatTour(rows: TourRow[]): string {
  const gw = Math.max(5, ...rows.map((r) => r.group.length));
  const nw = Math.max(4, ...rows.map((r) => r.name.length));
  const line = (g: string, n: string, r: string, d: string) =>
    `${g.padEnd(gw)}  ${n.padEnd(nw)}  ${r.padEnd(4)}  ${d}`;
  return [
    line("group", "path", "res", "detail"),
    line("-".repeat(gw), "-".repeat(nw), "----", "------"),
    ...rows.map((r) => line(r.group, r.name, r.ok ? "ok" : "FAIL", r.detail)),
  ].join("\n");
}
