// The test bed's xdeno configuration, one file per sled, written in the format of
// lib/config/schema.ts (the YAML `xdeno run --config` reads), all derived from plan.ts: underlay
// links and ECMP routes, the host port, system zones (sled1's zone-a with an overlay identity in
// the services VPC and a floating IP), instances on VNI 10 with SNAT, V2P for every VM of both
// sleds, V2B towards boundary services. The boundary peer's NAT table comes from the same data.

import { stringify } from "yaml";
import type { z } from "zod";
import type { Config } from "../config/schema.ts";
import type { NatEntry } from "./boundary.ts";
import {
  BOUNDARY_UL,
  BOUNDARY_VNI,
  Plan,
  RACK_LL,
  SERVICES_SUBNET4,
  SERVICES_VNI,
  SledPlan,
  SNAT_PORTS,
  VPC_SUBNET4,
  VPC_SUBNET6,
  ZONE_OVERLAY,
} from "./plan.ts";

/** A config file as written (schema input: defaults not yet applied). */
export type SledConfig = z.input<typeof Config>;

/** The underlay prefix every sled routes over both racks. */
export const UNDERLAY_PREFIX = "fd00::/16";

const len = (cidr: string) => cidr.split("/")[1];

/** Every inbound connection is allowed in the test VPCs (the firewall has its own tests). */
const OPEN_FIREWALL = [{ direction: "in" as const, priority: 100, action: "allow" as const }];

/**
 * The configuration of sled `s` of plan `p`. `zones`: each zone/VM port names its namespace
 * (`xdeno run` creates the TAP there); without it the ports are existing links in the sled's.
 * `workers`: datapath workers (lib/runtime README "Several workers").
 */
export function sledConfig(
  p: Plan,
  s: SledPlan,
  o: { zones?: boolean; workers?: number } = {},
): SledConfig {
  const zone = (ns: string) => (o.zones ? { zone: ns } : {});
  const zonePorts = s.zones.map((z, i) => ({
    name: z.port,
    kind: "system" as const,
    ...zone(z.ns),
    mac: z.mac,
    addresses: [`${z.ip6}/64`],
    ...(s.n === 1 && i === 0
      ? {
        overlay: { vni: SERVICES_VNI, ipv4: `${ZONE_OVERLAY.ip4}/${len(SERVICES_SUBNET4)}` },
        externalIps: { floating: [ZONE_OVERLAY.floating] },
        firewall: OPEN_FIREWALL,
      }
      : {}),
  }));
  const vmPorts = s.vms.map((v) => ({
    name: v.port,
    kind: "instance" as const,
    ...zone(v.ns),
    mac: v.mac,
    overlay: {
      vni: v.vni,
      ipv4: `${v.ip4}/${len(VPC_SUBNET4)}`,
      ipv6: `${v.ip6}/${len(VPC_SUBNET6)}`,
    },
    externalIps: { snat: { ip: v.snat, ports: SNAT_PORTS } },
    firewall: OPEN_FIREWALL,
  }));
  const vms = p.sleds.flatMap((o) => o.vms.map((v) => ({ v, sled: o })));
  return {
    platform: "linux",
    sled: { underlayAddress: s.host, underlayPrefix: UNDERLAY_PREFIX, hostInterface: "xde0" },
    underlay: {
      links: s.uplinks.map((u) => ({ name: u.name, linkLocal: u.ll })),
      routes: [{
        prefix: UNDERLAY_PREFIX,
        nextHops: s.uplinks.map((u) => ({ link: u.name, via: RACK_LL })),
      }],
    },
    boundaryServices: [{ vni: BOUNDARY_VNI, endpoint: BOUNDARY_UL }],
    ...(o.workers ? { datapath: { workers: o.workers } } : {}),
    ports: [
      { name: "xde0", kind: "host", mac: s.hostMac, addresses: [`${s.host}/64`] },
      ...zonePorts,
      ...vmPorts,
    ],
    mappings: {
      v2p: vms.flatMap(({ v, sled }) => [
        { vni: v.vni, ip: v.ip4, mac: v.mac, underlay: sled.host },
        { vni: v.vni, ip: v.ip6, mac: v.mac, underlay: sled.host },
      ]),
      v2b: [
        { vni: BOUNDARY_VNI, prefix: "0.0.0.0/0", endpoints: [BOUNDARY_UL] },
        { vni: BOUNDARY_VNI, prefix: "::/0", endpoints: [BOUNDARY_UL] },
      ],
    },
  };
}

/** One config per sled, in plan order. */
export function sledConfigs(p: Plan): SledConfig[] {
  return p.sleds.map((s) => sledConfig(p, s));
}

/** The YAML text of a config (what `xdeno run --config` reads). */
export function toYaml(c: SledConfig): string {
  return `# xdeno test bed: sled ${c.sled.underlayAddress}\n${stringify(c)}`;
}

/** The boundary's NAT table: every external IP of every port, to the sled that owns it. */
export function natEntries(p: Plan): NatEntry[] {
  const out: NatEntry[] = [];
  for (const [i, s] of p.sleds.entries()) {
    for (const port of sledConfig(p, s).ports ?? []) {
      const ext = port.externalIps;
      if (!ext || !port.overlay) continue;
      const ips = [...(ext.snat ? [ext.snat.ip] : []), ...(ext.floating ?? [])];
      for (const ip of ips) {
        out.push({
          externalIp: ip,
          underlay: p.sleds[i].host,
          vni: port.overlay.vni,
          mac: port.mac,
        });
      }
    }
  }
  return out;
}
