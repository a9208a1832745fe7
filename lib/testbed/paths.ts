// The benchmark rows: which namespaces talk, through which switch, doing which work. Each path is
// activated for its slot (OVS started, xdeno started) and deactivated after, so that busy-polling
// peers (OVS AF_XDP PMD threads) never steal CPU from another row.

import { run } from "./exec.ts";
import { Endpoints } from "./measure.ts";
import type { Mode } from "./report.ts";
import { startOvsL2, startOvsSleds } from "./ovs.ts";
import { Topology, txOffload, up } from "./topology.ts";
import { RunningSwitch, SwitchUnderTest } from "./sut.ts";

/** What a row does, so that xdeno is compared with peers doing the same work. */
export type Work = "direct" | "l2" | "routed" | "overlay";

/** Who forwards. */
export type Group = "kernel" | "ovs" | "xdeno";

/** A row that is active for one slot. */
export interface Active {
  /** Processes whose CPU time is the switch's (empty for the kernel). */
  pids(): Promise<number[]>;
  deactivate(): Promise<void>;
}

/** One benchmark row. */
export interface BenchPath {
  /** Carries the mode: `kernel-vxlan-raw`, `xdeno-geneve-best`. */
  id: string;
  label: string;
  group: Group;
  work: Work;
  mode: Mode;
  ep: Endpoints;
  /** Set when the row cannot run; the harness reports it as skipped. */
  skip?: string;
  activate(): Promise<Active>;
}

const always: Active = { pids: () => Promise.resolve([]), deactivate: () => Promise.resolve() };

/** A bare veth pair between two namespaces (the kernel's direct limit), torn down by `down`. */
export async function vethPair(
  prefix: string,
): Promise<{ a: string; b: string; down(): Promise<void> }> {
  const a = `${prefix}-va`, b = `${prefix}-vb`;
  const down = async () => {
    for (const ns of [a, b]) await run(["ip", "netns", "del", ns], { check: false });
  };
  try {
    await run(["ip", "netns", "add", a]);
    await run(["ip", "netns", "add", b]);
    await run([
      "ip",
      "-n",
      a,
      "link",
      "add",
      "eth0",
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      b,
    ]);
    for (const [ns, ip] of [[a, "198.18.0.1"], [b, "198.18.0.2"]]) {
      await run(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
      await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
      await run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
      // Same offload setting as the zones of the switch rows (complete checksums, no TSO).
      await run(["ethtool", "-K", "eth0", "tx", "off"], { ns });
    }
    return { a, b, down };
  } catch (e) {
    await down();
    throw e;
  }
}

/** The endpoints of the three shapes on a topology. */
export function shapes(t: Topology): Record<"l2" | "routed" | "overlay", Endpoints> {
  const [s1, s2] = t.plan.sleds;
  return {
    l2: { client: s1.zones[0].ns, server: s1.zones[1].ns, dst: s1.zones[1].ip6 },
    routed: { client: s1.zones[0].ns, server: s2.zones[0].ns, dst: s2.zones[0].ip6 },
    overlay: { client: s1.vms[0].ns, server: s2.vms[0].ns, dst: s2.vms[0].ip4 },
  };
}

/** Runs `on` at activation and `off` at deactivation (a mode's setting around one slot). */
function around(on: () => Promise<unknown>, off: () => Promise<unknown>): () => Promise<Active> {
  return async () => {
    await on();
    return { pids: always.pids, deactivate: async () => void await off() };
  };
}

/**
 * Kernel rows: veth direct (raw), bridge, routed through the racks, vxlan across sleds, each
 * `raw` (zones' tx offload off) and `best` (on: checksum offload and TSO, the kernel at its best).
 */
export function kernelPaths(veth: { a: string; b: string }, k: Topology): BenchPath[] {
  const sh = shapes(k);
  const rows: [string, string, Work, Endpoints][] = [
    ["kernel-bridge", "kernel bridge, zone→zone", "l2", sh.l2],
    ["kernel-routed", "kernel routed, zone→sled2 zone", "routed", sh.routed],
    ["kernel-vxlan", "kernel vxlan, vm→sled2 vm", "overlay", sh.overlay],
  ];
  const kernel = { group: "kernel" as const };
  const out: BenchPath[] = [{
    ...kernel,
    id: "kernel-veth-raw",
    label: "kernel veth pair [raw]",
    work: "direct",
    mode: "raw",
    ep: { client: veth.a, server: veth.b, dst: "198.18.0.2" },
    activate: () => Promise.resolve(always),
  }];
  for (const [id, label, work, ep] of rows) {
    out.push({
      ...kernel,
      id: `${id}-raw`,
      label: `${label} [raw]`,
      work,
      mode: "raw",
      ep,
      activate: () => Promise.resolve(always),
    });
    out.push({
      ...kernel,
      id: `${id}-best`,
      label: `${label} [best]`,
      work,
      mode: "best",
      ep,
      activate: around(() => txOffload(k, true), () => txOffload(k, false)),
    });
  }
  return out;
}

/**
 * OVS netdev rows on a switch-mode topology: `raw` L2 and Geneve with AF_PACKET and AF_XDP
 * ports; `best` L2 with userspace TSO and the zones' offload on. OVS 3.1 drops TSO packets on
 * Geneve ("Tunneling packets with HW offload flags is not supported"), so its best Geneve row is
 * skipped and the raw rows stand for it.
 */
export function ovsPaths(s: Topology, skip?: string): BenchPath[] {
  const sh = shapes(s);
  const rows: BenchPath[] = [];
  const peer =
    (start: () => Promise<{ pids(): Promise<number[]>; stop(): Promise<void> }>) => async () => {
      const p = await start();
      return { pids: () => p.pids(), deactivate: () => p.stop() };
    };
  for (const type of ["system", "afxdp"] as const) {
    rows.push({
      id: `ovs-${type}-l2-raw`,
      label: `OVS netdev ${type} L2, zone→zone [raw]`,
      group: "ovs",
      work: "l2",
      mode: "raw",
      ep: sh.l2,
      skip,
      activate: peer(() => startOvsL2(s, type)),
    });
    rows.push({
      id: `ovs-${type}-geneve-raw`,
      label: `OVS netdev ${type} Geneve, vm→sled2 vm [raw]`,
      group: "ovs",
      work: "overlay",
      mode: "raw",
      ep: sh.overlay,
      skip,
      activate: peer(() => startOvsSleds(s, { portType: type })),
    });
  }
  rows.push({
    id: "ovs-system-l2-best",
    label: "OVS netdev system L2 + userspace TSO, zone→zone [best]",
    group: "ovs",
    work: "l2",
    mode: "best",
    ep: sh.l2,
    skip,
    activate: async () => {
      const p = await startOvsSleds(s, { portType: "system", tso: true, sleds: [1] });
      await txOffload(s, true);
      return {
        pids: () => p.pids(),
        deactivate: async () => {
          await txOffload(s, false);
          await p.stop();
        },
      };
    },
  }, {
    id: "ovs-system-geneve-best",
    label: "OVS netdev system Geneve + userspace TSO [best]",
    group: "ovs",
    work: "overlay",
    mode: "best",
    ep: sh.overlay,
    skip: skip ?? "OVS 3.1 drops TSO packets on Geneve; its raw rows are its best",
    activate: () => Promise.resolve(always),
  });
  return rows;
}

/**
 * xdeno rows on its own switch-mode topology (or skipped with the hook's reason): `best` with
 * its defaults and the zones' offload on (checksum offload, TSO through virtio-net headers),
 * `raw` with the zones' offload off.
 */
export function xdenoPaths(
  sut: SwitchUnderTest,
  x: Topology | undefined,
  skip?: string,
): { paths: BenchPath[]; stop(): Promise<void> } {
  const sh = x ? shapes(x) : undefined;
  const none: Endpoints = { client: "", server: "", dst: "" };
  // One start serves every xdeno row (they run back to back; starting two services and the
  // boundary peer takes longer than a quick row): `stop` ends it when the beds go down.
  let running: Promise<RunningSwitch> | undefined;
  const activate = (mode: Mode) => async () => {
    running ??= sut.start(x!);
    const r = await running;
    if (mode === "best") await txOffload(x!, true);
    return {
      pids: () => r.pids(),
      deactivate: async () => {
        if (mode === "best") await txOffload(x!, false);
      },
    };
  };
  const works = [
    { id: "xdeno-l2", label: `${sut.name} zone→zone (same sled)`, work: "l2" as const, ep: sh?.l2 },
    {
      id: "xdeno-routed",
      label: `${sut.name} zone→sled2 zone (underlay)`,
      work: "routed" as const,
      ep: sh?.routed,
    },
    {
      id: "xdeno-geneve",
      label: `${sut.name} vm→sled2 vm (Geneve)`,
      work: "overlay" as const,
      ep: sh?.overlay,
    },
  ];
  const paths = (["best", "raw"] as const).flatMap((mode) =>
    works.map((r) => ({
      ...r,
      id: `${r.id}-${mode}`,
      label: `${r.label} [${mode}]`,
      mode,
      group: "xdeno" as const,
      ep: r.ep ?? none,
      skip: skip ??
        (sut.supports && !sut.supports.includes(r.work)
          ? `${sut.name} does not carry ${r.work} traffic yet`
          : undefined),
      activate: activate(mode),
    }))
  );
  const stop = async () => {
    const r = running;
    running = undefined;
    if (r) await (await r).stop();
  };
  return { paths, stop };
}

/** Builds every topology the rows need; `down` removes them all. */
export async function buildBeds(
  sut: SwitchUnderTest,
  wantOvs: boolean,
): Promise<{ paths: BenchPath[]; down(): Promise<void> }> {
  const downs: (() => Promise<void>)[] = [];
  // Every step runs even when one fails (e.g. an xdeno that never started cannot be stopped):
  // a failed step must not leave the other topologies' namespaces behind.
  const down = async () => {
    const failed: unknown[] = [];
    for (const d of [...downs].reverse()) {
      try {
        await d();
      } catch (e) {
        failed.push(e);
      }
    }
    if (failed.length > 0) {
      throw new AggregateError(failed, `teardown: ${failed.length} step(s) failed`);
    }
  };
  try {
    const veth = await vethPair(`tbv${Math.floor(Math.random() * 36 ** 3).toString(36)}`);
    downs.push(veth.down);
    const k = await up({ mode: "kernel", txOffload: false });
    downs.push(() => k.down());
    const paths = kernelPaths(veth, k);
    const s = await up({ mode: "switch" });
    downs.push(() => s.down());
    paths.push(...ovsPaths(s, wantOvs ? undefined : "openvswitch-switch not installed"));
    const why = await sut.unavailable();
    const x = why ? undefined : await up(sut.topology);
    if (x) downs.push(() => x.down());
    const xd = xdenoPaths(sut, x, why);
    downs.push(xd.stop);
    paths.push(...xd.paths);
    return { paths, down };
  } catch (e) {
    await down();
    throw e;
  }
}
