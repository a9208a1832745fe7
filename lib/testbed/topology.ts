// Builds and tears down the test-bed topology of plan.ts in network namespaces.
//   kernel: Linux stands in for the switch (bridge xde0 routing the zones' underlay, bridge br10 +
//           vxlan VNI 10 for the VPC), to prove the topology itself works.
//   switch: bare links for a userspace switch (xdeno, OVS) to open: the switch-owned ends are
//           promiscuous with kernel IPv6 off, and zones send complete checksums (tx offload off).
// Commands go out as one `ip -batch` per namespace and phase, so `up` takes well under a second.

import { releaseNetnsEtc } from "./clients.ts";
import { inNs, ok, run, RunResult } from "./exec.ts";
import {
  allNamespaces,
  BOUNDARY_GW,
  BOUNDARY_UL,
  EXTERNAL_GW,
  EXTERNAL_POOL,
  GW_LL,
  GW_MAC,
  makePlan,
  newPrefix,
  Plan,
  PORT_MTU,
  RACK_LL,
  SERVICES_GW4,
  SledPlan,
  stateDir,
  UL_MTU,
  VPC_GW4,
  VPC_VNI,
  ZONE_OVERLAY,
} from "./plan.ts";

/** How the sleds are built. */
export type Mode = "kernel" | "switch";

/** Options for `up`. */
export interface TopologyOptions {
  mode: Mode;
  /** Name prefix (default: a fresh random one). */
  prefix?: string;
  /** Zone/VM tx checksum offload (default: on in kernel mode, off in switch mode). */
  txOffload?: boolean;
  /** Switch mode: create zone/VM veths (default true); false leaves them to the switch (TAPs). */
  portLinks?: boolean;
  /** Switch mode: a persistent TAP `xde0` with the host address for the switch to attach. */
  hostTap?: boolean;
  /** Boundary links: kernel-routed, or left to the OVS boundary peer (default: as `mode`). */
  boundary?: Mode;
  /**
   * Switch mode: the switch is the VPC gateway (xdeno), so guests are addressed as OPTE's DHCP
   * does — host addresses (v4 and v6), everything routed via the gateway — and sled1's zone-a gets
   * its services-VPC address. Otherwise VMs share an on-link /22 (L2 peers such as OVS).
   */
  vpcGateway?: boolean;
}

/** A built topology. `down()` removes everything it created; it is idempotent. */
export class Topology {
  constructor(readonly plan: Plan, readonly mode: Mode, readonly opts: TopologyOptions) {}

  /** Runs argv inside namespace `ns` and returns its output (throws on failure). */
  exec(ns: string, argv: string[]): Promise<RunResult> {
    return run(argv, { ns });
  }

  /** Removes every namespace of the plan (and, with them, every link and address). */
  async down(): Promise<void> {
    await teardown(this.plan);
  }
}

/** Namespaces that currently exist. */
export async function listNamespaces(): Promise<string[]> {
  const r = await run(["ip", "-j", "netns", "list"], { check: false });
  if (r.code !== 0 || r.stdout.trim() === "") return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((e) => e.name);
}

/** Deletes the plan's namespaces, first stopping processes the test bed left inside them. */
export async function teardown(plan: Plan): Promise<void> {
  const existing = new Set(await listNamespaces());
  const mine = allNamespaces(plan).filter((n) => existing.has(n));
  for (const ns of mine) {
    // Processes in our own uniquely named namespaces were started by this test bed.
    const r = await run(["ip", "netns", "pids", ns], { check: false });
    for (const pid of r.stdout.split(/\s+/).filter((s) => s !== "").map(Number)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }
  await Promise.all(mine.map((ns) => run(["ip", "netns", "del", ns], { check: false })));
  await releaseNetnsEtc(allNamespaces(plan));
  if (!Deno.env.get("XDENO_TESTBED_KEEP_STATE")) {
    await Deno.remove(stateDir(plan.prefix), { recursive: true }).catch(() => {});
  }
}

/** Batches of `ip` lines and sysctls per namespace, flushed phase by phase. */
class Batch {
  ip = new Map<string, string[]>();
  sysctl = new Map<string, string[]>();
  root: string[] = [];

  add(ns: string, line: string): void {
    (this.ip.get(ns) ?? this.ip.set(ns, []).get(ns)!).push(line);
  }
  /** Brings `dev` up with only the link-local address `ll` (and MAC `mac` when given). */
  linkLocal(ns: string, dev: string, ll: string, mac?: string): void {
    this.add(ns, `link set ${dev}${mac ? ` address ${mac}` : ""} addrgenmode none`);
    this.add(ns, `addr add ${ll}/64 dev ${dev}`);
    this.add(ns, `link set ${dev} up`);
  }
  sys(ns: string, kv: string): void {
    (this.sysctl.get(ns) ?? this.sysctl.set(ns, []).get(ns)!).push(kv);
  }
  async flush(): Promise<void> {
    if (this.root.length) await run(["ip", "-b", "-"], { input: this.root.join("\n") + "\n" });
    await Promise.all(
      [...this.sysctl].map(([ns, kvs]) => run(inNs(ns, ["sysctl", "-qw", ...kvs]))),
    );
    await Promise.all(
      [...this.ip].map(([ns, lines]) =>
        run(["ip", "-n", ns, "-b", "-"], { input: lines.join("\n") + "\n" })
      ),
    );
    this.ip.clear();
    this.sysctl.clear();
    this.root = [];
  }
}

/** Builds the topology; on failure removes what it made and rethrows. */
export async function up(opts: TopologyOptions): Promise<Topology> {
  const plan = makePlan(opts.prefix ?? newPrefix());
  const topo = new Topology(plan, opts.mode, opts);
  const kernel = opts.mode === "kernel";
  const portLinks = kernel || opts.portLinks !== false;
  const txOff = opts.txOffload === undefined ? !kernel : !opts.txOffload;
  const taken = new Set(await listNamespaces());
  const clash = allNamespaces(plan).filter((n) => taken.has(n));
  if (clash.length) throw new Error(`test bed ${plan.prefix}: namespaces exist: ${clash}`);
  try {
    const all = allNamespaces(plan);
    await Promise.all(all.map((ns) => run(["ip", "netns", "add", ns])));
    const b = new Batch();
    for (const ns of all) {
      b.add(ns, "link set lo up");
      // No DAD delay; ECMP by L4 hash so flows spread over both uplinks.
      b.sys(ns, "net.ipv6.conf.all.accept_dad=0");
      b.sys(ns, "net.ipv6.conf.default.accept_dad=0");
      b.sys(ns, "net.ipv6.fib_multipath_hash_policy=1");
      // A next hop whose link lost carrier leaves ECMP (the kernel keeps using it otherwise).
      b.sys(ns, "net.ipv6.conf.default.ignore_routes_with_linkdown=1");
      b.sys(ns, "net.ipv6.conf.all.ignore_routes_with_linkdown=1");
    }
    for (const r of [...plan.racks, plan.boundary.ns]) b.sys(r, "net.ipv6.conf.all.forwarding=1");
    await b.flush(); // accept_dad=0 must be the default before any link exists
    // Every veth is created directly inside its namespaces: no name ever lives in the root ns.
    const veth = (a: string, aNs: string, aMac: string, p: string, pNs: string, mtu: number) =>
      b.root.push(
        `link add ${a} netns ${aNs} address ${aMac} mtu ${mtu} type veth ` +
          `peer name ${p} netns ${pNs} mtu ${mtu}`,
      );
    for (const s of plan.sleds) {
      for (const u of s.uplinks) veth(u.name, s.ns, u.mac, u.rackPort, u.rack, UL_MTU);
      if (portLinks) {
        for (const p of [...s.zones, ...s.vms]) veth("eth0", p.ns, p.mac, p.port, s.ns, PORT_MTU);
      }
    }
    const [rack0, rack1] = plan.racks;
    const bnd = plan.boundary, ext = plan.external;
    veth("rk1", rack0, "a8:40:25:ee:00:0f", "rk0", rack1, UL_MTU);
    veth(bnd.ul, bnd.ns, bnd.ulMac, "bnd", rack0, UL_MTU);
    veth("eth0", ext.ns, ext.mac, bnd.ext, bnd.ns, PORT_MTU);
    await b.flush();

    // Rack routers: one link per sled each, so a sled's two uplinks are two real paths.
    for (const s of plan.sleds) {
      for (const u of s.uplinks) b.linkLocal(u.rack, u.rackPort, RACK_LL, u.rackMac);
    }
    b.linkLocal(rack0, "rk1", "fe80::a");
    b.linkLocal(rack1, "rk0", "fe80::b");
    b.add(rack0, `addr add ${BOUNDARY_GW}/64 dev bnd`);
    b.add(rack0, "link set bnd up");
    for (const s of plan.sleds) {
      for (const u of s.uplinks) {
        b.add(u.rack, `route add ${s.prefix} via ${u.ll} dev ${u.rackPort}`);
      }
    }
    b.add(rack1, `route add ${BOUNDARY_UL}/64 via fe80::a dev rk0`);

    // Boundary and the external client.
    b.add(ext.ns, `addr add ${ext.ip4}/24 dev eth0`);
    b.add(ext.ns, "link set eth0 up");
    b.add(ext.ns, `neigh add ${EXTERNAL_GW} lladdr ${bnd.extMac} dev eth0 nud permanent`);
    b.add(ext.ns, `route add ${EXTERNAL_POOL} via ${EXTERNAL_GW} dev eth0`);
    b.add(bnd.ns, `link set ${bnd.ext} address ${bnd.extMac}`);
    const bndKernel = (opts.boundary ?? opts.mode) === "kernel";
    if (bndKernel) {
      b.sys(bnd.ns, "net.ipv4.ip_forward=1");
      b.add(bnd.ns, `addr add ${BOUNDARY_UL}/64 dev ${bnd.ul}`);
      b.add(bnd.ns, `addr add ${EXTERNAL_GW}/24 dev ${bnd.ext}`);
    } else {
      switchOwned(b, bnd.ns, bnd.ul);
      switchOwned(b, bnd.ns, bnd.ext);
    }
    b.add(bnd.ns, `link set ${bnd.ul} up`);
    b.add(bnd.ns, `link set ${bnd.ext} up`);
    if (bndKernel) b.add(bnd.ns, `route add ::/0 via ${BOUNDARY_GW} dev ${bnd.ul}`);

    const gw = !kernel && opts.vpcGateway === true;
    for (const s of plan.sleds) sled(b, s, kernel, portLinks, opts.hostTap === true, gw);
    await b.flush();
    if (txOff) await txOffload(topo, false);
    else if (!bndKernel) {
      // The OVS boundary reads the client's frames with AF_PACKET: they need full checksums.
      await run(["ethtool", "-K", "eth0", "tx", "off"], { ns: ext.ns });
    }
    return topo;
  } catch (e) {
    await teardown(plan);
    throw e;
  }
}

/** A link the kernel must leave alone: no IPv6 (no NDP answers, no ICMP errors), promiscuous. */
function switchOwned(b: Batch, ns: string, link: string): void {
  b.sys(ns, `net.ipv6.conf.${link}.disable_ipv6=1`);
  b.add(ns, `link set ${link} promisc on`);
}

function sled(
  b: Batch,
  s: SledPlan,
  kernel: boolean,
  portLinks: boolean,
  hostTap: boolean,
  gw: boolean,
): void {
  for (const u of s.uplinks) {
    b.add(s.ns, `link set ${u.name} addrgenmode none`);
    if (kernel) b.add(s.ns, `addr add ${u.ll}/64 dev ${u.name}`);
    else switchOwned(b, s.ns, u.name);
    b.add(s.ns, `link set ${u.name} up`);
  }
  if (portLinks) {
    guests(b, s, gw);
    for (const p of [...s.zones, ...s.vms]) {
      if (!kernel) switchOwned(b, s.ns, p.port);
      b.add(s.ns, `link set ${p.port} up`);
    }
  }
  if (kernel) {
    b.sys(s.ns, "net.ipv6.conf.all.forwarding=1");
    b.add(s.ns, `link add xde0 address ${GW_MAC} mtu ${PORT_MTU} type bridge`);
    for (const z of s.zones) b.add(s.ns, `link set ${z.port} master xde0`);
    b.add(s.ns, `addr add ${s.host}/64 dev xde0`);
    b.add(s.ns, "link set xde0 up");
    const hops = s.uplinks.map((u) => `nexthop via ${RACK_LL} dev ${u.name}`).join(" ");
    b.add(s.ns, `route add ::/0 ${hops}`);
    // The VPC stand-in: VMs bridged to the other sled over kernel vxlan on the underlay.
    const peer = s.n === 1 ? "fd00:2::1" : "fd00:1::1";
    b.add(s.ns, `link add br${VPC_VNI} mtu ${PORT_MTU} type bridge`);
    b.add(
      s.ns,
      `link add vx${VPC_VNI} mtu ${PORT_MTU} type vxlan id ${VPC_VNI} local ${s.host} ` +
        `remote ${peer} dstport 4789 nolearning`,
    );
    for (const p of [`vx${VPC_VNI}`, ...s.vms.map((v) => v.port)]) {
      b.add(s.ns, `link set ${p} master br${VPC_VNI}`);
    }
    b.add(s.ns, `link set vx${VPC_VNI} up`);
    b.add(s.ns, `link set br${VPC_VNI} up`);
  } else if (hostTap) {
    b.add(s.ns, "tuntap add dev xde0 mode tap");
    b.add(s.ns, `link set xde0 address ${s.hostMac} mtu ${PORT_MTU}`);
    b.add(s.ns, `addr add ${s.host}/64 dev xde0`);
    b.add(s.ns, "link set xde0 up");
    b.add(s.ns, `route add ::/0 via ${GW_LL} dev xde0`);
  }
}

/** The guests' side of their port links (`eth0` in each zone/VM): addresses and routes. */
function guests(b: Batch, s: SledPlan, gw: boolean): void {
  // `replace` for ::/0: a guest whose link came up may already hold it from the switch's RA.
  for (const z of s.zones) {
    b.add(z.ns, `addr add ${z.ip6}/64 dev eth0`);
    b.add(z.ns, "link set eth0 up");
    b.add(z.ns, `route replace ::/0 via ${GW_LL} dev eth0`);
  }
  for (const v of s.vms) {
    if (!gw) b.add(v.ns, `addr add ${v.ip4}/22 dev eth0`);
    else {
      // As OPTE's DHCP hands out: a host address, everything routed via the gateway (which
      // answers ARP and NDP for itself only).
      b.add(v.ns, `addr add ${v.ip4}/32 dev eth0`);
      b.add(v.ns, `addr add ${v.ip6}/128 dev eth0`);
    }
    b.add(v.ns, "link set eth0 up");
    if (gw) {
      b.add(v.ns, `route add ${VPC_GW4} dev eth0`);
      b.add(v.ns, `route replace ::/0 via ${GW_LL} dev eth0`);
    }
    b.add(v.ns, `route add default via ${VPC_GW4} dev eth0`);
  }
  if (gw && s.n === 1) {
    // sled1's zone-a also has an overlay identity in the services VPC (its floating IP).
    const z = s.zones[0];
    b.add(z.ns, `addr add ${ZONE_OVERLAY.ip4}/32 dev eth0`);
    b.add(z.ns, `route add ${SERVICES_GW4} dev eth0`);
    b.add(z.ns, `route add default via ${SERVICES_GW4} dev eth0`);
  }
}

/**
 * `portLinks: false`: the switch created each zone's/VM's TAP (named after its port) in the
 * guest's namespace; the guest renames it `eth0` and configures it as it would a veth, so every
 * check addresses guests the same way whoever made their links. Closing the TAP (switch exit)
 * still removes it: the name does not matter to the kernel.
 */
export async function adoptSwitchPorts(topo: Topology): Promise<void> {
  const b = new Batch();
  const gw = topo.opts.vpcGateway === true;
  for (const s of topo.plan.sleds) {
    for (const p of [...s.zones, ...s.vms]) {
      b.add(p.ns, `link set ${p.port} down`);
      b.add(p.ns, `link set ${p.port} name eth0`);
    }
    guests(b, s, gw);
  }
  await b.flush();
  const txOff = topo.opts.txOffload === undefined ? topo.mode !== "kernel" : !topo.opts.txOffload;
  if (txOff) await txOffload(topo, false);
}

/** Turns tx checksum offload (and with it TSO) on or off on every zone, VM and external link. */
export async function txOffload(topo: Topology, on: boolean): Promise<void> {
  const p = topo.plan;
  const ends = [...p.sleds.flatMap((s) => [...s.zones, ...s.vms]), p.external];
  await Promise.all(
    ends.map((e) =>
      ok(["ip", "link", "show", "eth0"], { ns: e.ns }).then((has) =>
        has ? run(["ethtool", "-K", "eth0", "tx", on ? "on" : "off"], { ns: e.ns }) : undefined
      )
    ),
  );
}

/** Builds a topology, runs `fn`, and tears it down whatever happens. */
export async function withTopology<T>(
  opts: TopologyOptions,
  fn: (t: Topology) => Promise<T>,
): Promise<T> {
  const t = await up(opts);
  try {
    return await fn(t);
  } finally {
    await t.down();
  }
}

/**
 * Takes a rack router's link to sled `sled` (1-based) down or back up, as a cable pull would.
 * Bringing it up restores what the kernel flushed on the way down (the link-local address, which
 * keep_addr_on_down never keeps, and the route to the sled's prefix) as the rack's routing
 * daemon would.
 */
export async function rackLink(t: Topology, rack: number, sled: number, up: boolean) {
  const s = t.plan.sleds[sled - 1], u = s.uplinks[rack];
  const ip = (args: string) => run(["ip", "-n", u.rack, ...args.split(" ")]);
  if (!up) return void await ip(`link set ${u.rackPort} down`);
  await ip(`link set ${u.rackPort} up`);
  await ip(`addr replace ${RACK_LL}/64 dev ${u.rackPort}`);
  await ip(`route replace ${s.prefix} via ${u.ll} dev ${u.rackPort}`);
}
