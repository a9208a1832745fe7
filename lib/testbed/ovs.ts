// Open vSwitch's userspace datapath (datapath_type=netdev) as the peer xdeno is compared with and
// checked against. No kernel module and no systemd: each instance is an ovsdb-server +
// ovs-vswitchd pair started inside one namespace, all state under its own directory.

import { run, RunResult, sleep, waitFor } from "./exec.ts";
import { PORT_MTU, SledPlan, stateDir, VPC_VNI } from "./plan.ts";
import { Topology } from "./topology.ts";

/** OVS port types for zone links: `system` = AF_PACKET (netdev-linux), `afxdp` = AF_XDP. */
export type PortType = "system" | "afxdp";

const SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

/** One ovsdb-server + ovs-vswitchd pair running in a namespace. */
export class OvsInstance {
  readonly dir: string;
  constructor(readonly ns: string, prefix: string, readonly name: string) {
    this.dir = `${stateDir(prefix)}/ovs/${name}`;
  }

  /** Creates the database and starts both daemons (detached; pids in their pidfiles). */
  async start(otherConfig: Record<string, string> = {}): Promise<void> {
    const d = this.dir;
    await Deno.remove(d, { recursive: true }).catch(() => {});
    await Deno.mkdir(d, { recursive: true });
    await run(["ovsdb-tool", "create", `${d}/conf.db`, SCHEMA]);
    await run([
      "ovsdb-server",
      `${d}/conf.db`,
      `--remote=punix:${d}/db.sock`,
      `--unixctl=${d}/ovsdb-server.ctl`,
      `--pidfile=${d}/ovsdb-server.pid`,
      `--log-file=${d}/ovsdb-server.log`,
      "--no-chdir",
      "--detach",
    ], { ns: this.ns });
    await this.vsctl("--no-wait", "init");
    for (const [k, v] of Object.entries(otherConfig)) {
      await this.vsctl("--no-wait", "set", "Open_vSwitch", ".", `other_config:${k}=${v}`);
    }
    // OVS_RUNDIR: where vswitchd puts the <bridge>.mgmt sockets ovs-ofctl talks to.
    await run([
      "ovs-vswitchd",
      `unix:${d}/db.sock`,
      `--unixctl=${d}/ovs-vswitchd.ctl`,
      `--pidfile=${d}/ovs-vswitchd.pid`,
      `--log-file=${d}/ovs-vswitchd.log`,
      "--no-chdir",
      "--detach",
    ], { ns: this.ns, env: { OVS_RUNDIR: d } });
  }

  /** Runs ovs-vsctl against this instance's database. */
  vsctl(...args: string[]): Promise<RunResult> {
    return run(["ovs-vsctl", `--db=unix:${this.dir}/db.sock`, "--timeout=20", ...args]);
  }

  /** ovs-vsctl with a space-separated command line (no argument contains a space). */
  vs(cmdline: string): Promise<RunResult> {
    return this.vsctl(...cmdline.split(" "));
  }

  /** Runs ovs-ofctl against bridge `br` of this instance. */
  ofctl(cmd: string, br: string, ...args: string[]): Promise<RunResult> {
    return run(["ovs-ofctl", "-O", "OpenFlow15", cmd, `unix:${this.dir}/${br}.mgmt`, ...args]);
  }

  /** Runs ovs-appctl against this instance's vswitchd. */
  appctl(...args: string[]): Promise<RunResult> {
    return run(["ovs-appctl", "-t", `${this.dir}/ovs-vswitchd.ctl`, ...args]);
  }

  /** The OpenFlow port number of interface `iface`. */
  async ofport(iface: string): Promise<number> {
    for (let i = 0; i < 50; i++) {
      const n = Number((await this.vsctl("get", "interface", iface, "ofport")).stdout.trim());
      if (n > 0) return n;
      await sleep(100);
    }
    throw new Error(`ovs ${this.name}: interface ${iface} got no ofport (see ${this.dir}/*.log)`);
  }

  /** Process ids of the running daemons (for CPU accounting). */
  async pids(): Promise<number[]> {
    const out: number[] = [];
    for (const p of ["ovs-vswitchd", "ovsdb-server"]) {
      const t = await Deno.readTextFile(`${this.dir}/${p}.pid`).catch(() => "");
      if (t.trim()) out.push(Number(t.trim()));
    }
    return out;
  }

  /** Stops both daemons by their own pids and waits until they are gone. */
  async stop(): Promise<void> {
    for (const pid of await this.pids()) {
      try {
        Deno.kill(pid, "SIGTERM");
      } catch { /* gone */ }
      const gone = await waitFor(() => Promise.resolve(!alive(pid)), 5000, 50);
      if (!gone) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** A set of running OVS instances that stop together. */
export interface OvsPeer {
  instances: OvsInstance[];
  /** Daemon pids, for CPU accounting. */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

function peerOf(instances: OvsInstance[]): OvsPeer {
  return {
    instances,
    pids: async () => (await Promise.all(instances.map((i) => i.pids()))).flat(),
    stop: async () => {
      await Promise.all(instances.map((i) => i.stop()));
    },
  };
}

/** Options for the OVS sled peer. */
export interface OvsSledOptions {
  portType?: PortType;
  /** other_config:userspace-tso-enable (vnet headers on AF_PACKET; L2 only in OVS 3.1). */
  tso?: boolean;
  /** Which sleds get an OVS (default all); an L2-only run needs sled 1 only. */
  sleds?: number[];
}

/**
 * Plugs OVS into a switch-mode topology: per sled a bridge br-int with the zone and VM links and a
 * Geneve port (VNI 10) to the other sled, and a bridge xde0 on ul0 whose internal port is the
 * host IP interface and the tunnel endpoint.
 */
export async function startOvsSleds(topo: Topology, opts: OvsSledOptions = {}): Promise<OvsPeer> {
  if (topo.mode !== "switch") throw new Error("OVS plugs into a switch-mode topology");
  const want = opts.sleds ?? topo.plan.sleds.map((s) => s.n);
  const started: OvsInstance[] = [];
  try {
    for (const s of topo.plan.sleds.filter((s) => want.includes(s.n))) {
      const o = new OvsInstance(s.ns, topo.plan.prefix, `sled${s.n}`);
      started.push(o);
      await o.start({ "userspace-tso-enable": `${opts.tso === true}` });
      await ovsSled(topo, o, s, opts.portType ?? "system", want.length > 1);
    }
    if (want.length > 1) {
      // OVS learns tunnel neighbours by snooping ND on the bridge: prime it from the host.
      const [a, b] = topo.plan.sleds;
      await run(["ping", "-6", "-c", "2", "-w", "5", "-i", "0.2", b.host], { ns: a.ns });
    }
    return peerOf(started);
  } catch (e) {
    await peerOf(started).stop();
    throw e;
  }
}

async function ovsSled(
  topo: Topology,
  o: OvsInstance,
  s: SledPlan,
  portType: PortType,
  geneve: boolean,
): Promise<void> {
  const ul = s.uplinks[0];
  const peer = topo.plan.sleds.find((x) => x.n !== s.n)!;
  await o.vs("add-br br-int -- set bridge br-int datapath_type=netdev fail-mode=standalone");
  for (const p of [...s.zones, ...s.vms]) {
    const extra = portType === "system" ? "" : ` -- set interface ${p.port} type=${portType}`;
    await o.vs(`add-port br-int ${p.port}${extra}`);
  }
  if (geneve) {
    await o.vs(
      `add-port br-int gnv0 -- set interface gnv0 type=geneve options:remote_ip=${peer.host} ` +
        `options:local_ip=${s.host} options:key=${VPC_VNI}`,
    );
  }
  await o.vs(
    "add-br xde0 -- set bridge xde0 datapath_type=netdev fail-mode=standalone " +
      `other_config:hwaddr=${ul.mac}`,
  );
  await o.vsctl("add-port", "xde0", ul.name);
  const ip = (args: string) => run(["ip", "-n", s.ns, ...args.split(" ")]);
  await ip(`link set xde0 mtu ${PORT_MTU} up`);
  await ip(`addr replace ${s.host}/64 dev xde0`);
  await ip(`addr replace ${ul.ll}/64 dev xde0`);
  // OVS 3.1 takes the outer IPv6 source of tnl_push from the bridge address sharing a prefix with
  // the route's gateway (not local_ip): with the rack's fe80::ff it would be a link-local that the
  // rack refuses to forward. So the rack also answers fd00:N::ff on this link and we route via it.
  const gw = `fd00:${s.n}::ff`;
  await run(["ip", "-n", ul.rack, "addr", "replace", `${gw}/128`, "dev", ul.rackPort]);
  await ip(`route replace ::/0 via ${gw} dev xde0`);
}

/** Starts OVS on sled 1 as a plain L2 bridge of its zone and VM links (no tunnel). */
export function startOvsL2(topo: Topology, portType: PortType = "system"): Promise<OvsPeer> {
  return startOvsSleds(topo, { portType, sleds: [1] });
}
