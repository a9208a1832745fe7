// The test bed's addressing plan: every name, MAC and address the topology creates, derived from
// one unique prefix so that two runs can coexist. xdeno configs and the checks read it from here.
//
//   s1za  s1zb  s1vm0 s1vm1                 s2za  s2vm0
//    |     |     |     |                     |     |
//   vza   vzb   vvm0  vvm1  (sled1 ports)   vza   vvm0  (sled2 ports)
//   +------- s1 (GZ, xde0) -----+           +---- s2 (GZ) ----+
//      ul0              ul1                    ul0         ul1
//       |                 \____________________|___         |
//   rack0: s1 s2 bnd rk1 ------------- rk0 :rack1  s1 s2 ----+
//           |    |
//           |   bnd (boundary services, OVS) -- ext0 == eth0 ext (off-rack client)
//
// Namespace names are `<prefix>-<role>`, ≤ 15 characters like interface names.

/** Oxide's gateway MAC (OPTE GW_MAC_ADDR) that zones and VMs use as their router. */
export const GW_MAC = "a8:40:25:ff:77:77";
/** The gateway's link-local address (EUI-64 of GW_MAC). */
export const GW_LL = "fe80::aa40:25ff:feff:7777";
/** The VPC's IPv4 gateway. */
export const VPC_GW4 = "172.30.0.1";
/** VNI of the test VPC. */
export const VPC_VNI = 10;
/** Boundary-services VNI (OPTE's BOUNDARY_SERVICES_VNI). */
export const BOUNDARY_VNI = 99;
/** Link-local of every rack-router port facing a sled. */
export const RACK_LL = "fe80::ff";
/** Underlay address of boundary services. */
export const BOUNDARY_UL = "fd00:99::1";
/** The rack router's global address on the boundary link (the boundary's default gateway). */
export const BOUNDARY_GW = "fd00:99::ff";
/** The external client's address and its gateway at the boundary. */
export const EXTERNAL_IP = "198.51.100.10";
/** The boundary's address towards the external client. */
export const EXTERNAL_GW = "198.51.100.1";
/** The rack's external IP pool (floating IPs, SNAT addresses). */
export const EXTERNAL_POOL = "203.0.113.0/24";
/** The VPC's IPv4 and IPv6 subnets (guests get /32 and /128 and route everything via the gateway). */
export const VPC_SUBNET4 = "172.30.0.0/22";
/** IPv6 subnet of the test VPC. */
export const VPC_SUBNET6 = "fd77:10::/64";
/** VNI of the services VPC that gives sled1's zone-a an overlay identity (the Nexus case). */
export const SERVICES_VNI = 100;
/** Services VPC subnet and gateway. */
export const SERVICES_SUBNET4 = "172.31.0.0/24";
/** Gateway of the services VPC subnet (first host). */
export const SERVICES_GW4 = "172.31.0.1";
/** Private and floating IP of sled1 zone-a's overlay identity. */
export const ZONE_OVERLAY = { ip4: "172.31.0.5", floating: "203.0.113.20" };
/** MTU of underlay links (Oxide runs 9000). */
export const UL_MTU = 9000;
/** MTU of zone, VM and external links. */
export const PORT_MTU = 1500;

/** A system zone: one port on its sled's switch. */
export interface ZonePlan {
  ns: string;
  /** Switch-side link name in the sled namespace. */
  port: string;
  mac: string;
  /** Underlay address (/64 of the sled). */
  ip6: string;
}

/** A VPC instance on VNI 10. */
export interface VmPlan {
  ns: string;
  port: string;
  mac: string;
  ip4: string;
  /** IPv6 in VPC_SUBNET6. */
  ip6: string;
  /** The SNAT address the VM reaches the outside with (ports SNAT_PORTS). */
  snat: string;
  vni: number;
}

/** Source ports of every SNAT address (one VM per address here). */
export const SNAT_PORTS: [number, number] = [1024, 16383];

/** One underlay link from a sled to a rack router. */
export interface UplinkPlan {
  /** Link name in the sled namespace. */
  name: string;
  mac: string;
  /** The sled's link-local on this link (answered by the switch in switch mode). */
  ll: string;
  rack: string;
  /** Link name in the rack namespace. */
  rackPort: string;
  rackMac: string;
}

/** One sled (a GZ running a switch). */
export interface SledPlan {
  n: number;
  ns: string;
  /** The sled's underlay /64. */
  prefix: string;
  /** The GZ's host address on xde0. */
  host: string;
  hostMac: string;
  uplinks: UplinkPlan[];
  zones: ZonePlan[];
  vms: VmPlan[];
}

/** The whole plan. */
export interface Plan {
  prefix: string;
  sleds: SledPlan[];
  racks: string[];
  boundary: { ns: string; ul: string; ulMac: string; ext: string; extMac: string };
  external: { ns: string; mac: string; ip4: string };
}

/** A fresh prefix: "tb" + 4 base-36 characters, unique enough for parallel runs. */
export function newPrefix(): string {
  const r = crypto.getRandomValues(new Uint32Array(1))[0] % (36 ** 4);
  return "tb" + r.toString(36).padStart(4, "0");
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** Builds the plan for `prefix` (≤ 7 characters, so names stay ≤ 15). */
export function makePlan(prefix: string): Plan {
  if (!/^[a-z0-9]{1,7}$/.test(prefix)) {
    throw new Error(`test-bed prefix "${prefix}": expected 1-7 lowercase letters or digits`);
  }
  const ns = (role: string) => `${prefix}-${role}`;
  const racks = [ns("rack0"), ns("rack1")];
  const sled = (n: number, zones: string[], vms: [number, number][]): SledPlan => ({
    n,
    ns: ns(`s${n}`),
    prefix: `fd00:${n}::/64`,
    host: `fd00:${n}::1`,
    hostMac: `a8:40:25:0${n}:00:01`,
    uplinks: racks.map((rack, r) => ({
      name: `ul${r}`,
      mac: `a8:40:25:0${n}:ff:0${r + 1}`,
      ll: `fe80::${n}:${r + 1}`,
      rack,
      rackPort: `s${n}`,
      rackMac: `a8:40:25:ee:0${r}:0${n}`,
    })),
    zones: zones.map((z, i) => ({
      ns: ns(`s${n}z${z}`),
      port: `vz${z}`,
      mac: `a8:40:25:0${n}:01:${hex2(10 + i)}`,
      ip6: `fd00:${n}::${(0x10 + i).toString(16)}`,
    })),
    vms: vms.map(([idx, host]) => ({
      ns: ns(`s${n}vm${idx}`),
      port: `vvm${idx}`,
      mac: `a8:40:25:f${n}:00:${hex2(host)}`,
      ip4: `172.30.0.${host}`,
      ip6: `fd77:10::${host}`,
      snat: `203.0.113.${100 + host}`,
      vni: VPC_VNI,
    })),
  });
  return {
    prefix,
    sleds: [sled(1, ["a", "b"], [[0, 5], [1, 7]]), sled(2, ["a"], [[0, 6]])],
    racks,
    boundary: {
      ns: ns("bnd"),
      ul: "ul0",
      ulMac: "a8:40:25:99:00:01",
      ext: "ext0",
      extMac: "02:00:5e:00:99:01",
    },
    external: { ns: ns("ext"), mac: "02:00:5e:00:99:0a", ip4: EXTERNAL_IP },
  };
}

/** Root of a run's state on disk (OVS databases, logs, captures); removed by teardown. */
export function stateDir(prefix: string): string {
  return `/tmp/xdeno-testbed/${prefix}`;
}

/** Every namespace of the plan, routers first. */
export function allNamespaces(p: Plan): string[] {
  return [
    ...p.racks,
    p.boundary.ns,
    p.external.ns,
    ...p.sleds.flatMap((s) => [s.ns, ...s.zones.map((z) => z.ns), ...s.vms.map((v) => v.ns)]),
  ];
}
