// The boundary-services peer: Open vSwitch (userspace datapath) decapsulating Geneve VNI 99 towards
// the `external` namespace, and encapsulating the external client's traffic for the rack's
// external IPs back to the sled that owns them, tagged with the Oxide "external" option
// (class 0x0129, type 0, no body) through tun_metadata. An implementation we did not write checks
// our Geneve.

import { run } from "./exec.ts";
import { OvsInstance, OvsPeer } from "./ovs.ts";
import { BOUNDARY_GW, BOUNDARY_UL, BOUNDARY_VNI, GW_MAC, PORT_MTU } from "./plan.ts";
import { Topology } from "./topology.ts";

/** One external IP the boundary sends to a sled (Dendrite's NAT table entry). */
export interface NatEntry {
  /** External IPv4 address (in EXTERNAL_POOL). */
  externalIp: string;
  /** Underlay address of the sled that owns it. */
  underlay: string;
  /** VNI and inner destination MAC of the owning port. */
  vni: number;
  mac: string;
  /** Inner source MAC (default: the VPC gateway's). */
  srcMac?: string;
}

/** Options for the boundary peer. */
export interface BoundaryOptions {
  nat: NatEntry[];
  /** Geneve VNI accepted from sleds (default 99). */
  vni?: number;
}

/** Starts the boundary OVS in the topology's `bnd` namespace (its links must be switch-owned). */
export async function startBoundary(topo: Topology, opts: BoundaryOptions): Promise<OvsPeer> {
  const b = topo.plan.boundary, ext = topo.plan.external;
  const o = new OvsInstance(b.ns, topo.plan.prefix, "boundary");
  const peer: OvsPeer = { instances: [o], pids: () => o.pids(), stop: () => o.stop() };
  try {
    await o.start();
    await o.vs(
      "add-br br-ul -- set bridge br-ul datapath_type=netdev fail-mode=standalone " +
        `other_config:hwaddr=${b.ulMac}`,
    );
    await o.vs(`add-port br-ul ${b.ul}`);
    const ip = (args: string) => run(["ip", "-n", b.ns, ...args.split(" ")]);
    await ip(`link set br-ul mtu ${PORT_MTU} up`);
    await ip(`addr replace ${BOUNDARY_UL}/64 dev br-ul`);
    // A gateway inside fd00:99::/64 makes OVS 3.1 pick fd00:99::1 as the outer source.
    await ip(`route replace ::/0 via ${BOUNDARY_GW} dev br-ul`);

    await o.vs("add-br br-ext -- set bridge br-ext datapath_type=netdev fail-mode=secure");
    await o.vs(`add-port br-ext ${b.ext}`);
    await o.vs(
      "add-port br-ext gnv0 -- set interface gnv0 type=geneve options:remote_ip=flow " +
        `options:key=flow options:local_ip=${BOUNDARY_UL}`,
    );
    const extPort = await o.ofport(b.ext), gnv = await o.ofport("gnv0");
    await o.ofctl("add-tlv-map", "br-ext", "{class=0x0129,type=0x00,len=0}->tun_metadata0");
    const vni = opts.vni ?? BOUNDARY_VNI;
    const flows = [
      // From the sleds: VNI 99 only, delivered to the external client as a router would.
      `priority=100,in_port=${gnv},tun_id=${vni},` +
      `actions=mod_dl_src:${b.extMac},mod_dl_dst:${ext.mac},output:${extPort}`,
      ...opts.nat.map((n) =>
        `priority=100,in_port=${extPort},ip,nw_dst=${n.externalIp},actions=` +
        `set_field:${n.underlay}->tun_ipv6_dst,set_field:${n.vni}->tun_id,` +
        `set_field:0->tun_metadata0,mod_dl_src:${n.srcMac ?? GW_MAC},mod_dl_dst:${n.mac},` +
        `output:${gnv}`
      ),
      "priority=0,actions=drop",
    ];
    for (const f of flows) await o.ofctl("add-flow", "br-ext", f);
    // OVS resolves the tunnel next hop by snooping ND on br-ul: prime it.
    await run(["ping", "-6", "-c", "2", "-w", "5", "-i", "0.2", BOUNDARY_GW], { ns: b.ns });
    return peer;
  } catch (e) {
    await o.stop();
    throw e;
  }
}
