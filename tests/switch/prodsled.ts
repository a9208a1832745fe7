// The production pipeline on NullLinks, for the allocation probe and the switch benchmarks:
// instance ports get lib/vpc's VPC port built from a port spec the way the runtime builds it
// (vpcConfig → vpcPort, then the seeded system routes through routeInput; no injected clock, so the engine reads performance.now() per packet
// as in production). Each scenario's poll() handles 32 frames of one path, including floods
// that production must drop without allocating.

import type { LayerSpec } from "../../lib/packet/build.ts";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { routeInput, vpcConfig } from "../../lib/runtime/translate.ts";
import { systemRoutes } from "../../lib/config/routes.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import { type BenchSled, nullSled, sledHooks } from "./benchsled.ts";
import { frame, GW_MAC, REMOTE, SLED, UL } from "./harness.ts";
import { NullLink } from "./nulllink.ts";

/** Production paths: three that forward, three floods that are dropped. */
export type ProdPath =
  | "vpc out"
  | "vpc in"
  | "vpc loopback"
  /** Geneve from a remote instance to one whose firewall denies everything inbound. */
  | "deny flood"
  /** An instance sending from an address that is not its own. */
  | "spoof flood"
  /** Geneve for a VNI no port on this sled has. */
  | "geneve no port";

export const PROD_PATHS: ProdPath[] = [
  "vpc out",
  "vpc in",
  "vpc loopback",
  "deny flood",
  "spoof flood",
  "geneve no port",
];

const VNI = 10;
const A = { name: "inst-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
const B = { name: "inst-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };
/** Its firewall denies everything inbound. */
const D = { name: "inst-d", mac: "a8:40:25:fa:00:0d", ip: "172.30.0.13" };
/** An instance on the remote sled. */
const R = { mac: "a8:40:25:fa:00:20", ip: "172.30.0.20" };

/** Where each path's frames arrive ("a": instance A's link, "ul": the underlay) and expect. */
const PLAN: Record<ProdPath, { from: "a" | "ul"; forwards: boolean }> = {
  "vpc out": { from: "a", forwards: true },
  "vpc in": { from: "ul", forwards: true },
  "vpc loopback": { from: "a", forwards: true },
  "deny flood": { from: "ul", forwards: false },
  "spoof flood": { from: "a", forwards: false },
  "geneve no port": { from: "ul", forwards: false },
};

/** A switch with production VPC ports whose poll() runs 32 frames of `path`. */
export function prodSwitch(path: ProdPath, payload = 10): BenchSled {
  const { sw, ul, all } = nullSled();
  const maps = new Mappings();
  for (const g of [A, B, D]) maps.v2p.set(VNI, g.ip, g.mac, SLED);
  maps.v2p.set(VNI, R.ip, R.mac, REMOTE);
  const links = new Map<string, NullLink>();
  for (const g of [A, B, D]) {
    const link = new NullLink(g.name, g.mac, 1500);
    const spec: Parameters<typeof vpcConfig>[0] = {
      name: g.name,
      mac: g.mac,
      mtu: 1500,
      overlay: { vni: VNI, gatewayMac: GW_MAC, ipv4: `${g.ip}/22` },
    };
    const pipeline = vpcPort(vpcConfig(spec, SLED, maps)!);
    // The router table as the runtime applies it: the system routes the config seeds.
    pipeline.setRoutes(systemRoutes(spec).map(routeInput));
    pipeline.setFirewall(
      firewallRulesFromText([{ direction: "in", priority: 1, action: g === D ? "deny" : "allow" }]),
    );
    sw.addPort({ name: g.name, kind: "instance", link, mac: g.mac, vni: VNI, pipeline });
    links.set(g.name, link);
    all.push(link);
  }
  const sports = Array.from({ length: 32 }, (_, i) => 40000 + i);
  const inner = (p: number, src: string, dst: string, dstMac: string, srcMac = A.mac) =>
    [
      { type: "ethernet", src: srcMac, dst: dstMac },
      { type: "ipv4", src, dst },
      { type: "udp", srcPort: p, dstPort: 53 },
      { type: "payload", data: new Uint8Array(payload) },
    ] as LayerSpec[];
  const geneve = (p: number, vni: number, to: { mac: string; ip: string }) =>
    frame([
      { type: "ethernet", src: UL[1].rackMac, dst: UL[1].mac },
      { type: "ipv6", src: REMOTE, dst: SLED },
      { type: "udp", srcPort: 50000 + p, dstPort: 6081, checksum: "zero" },
      { type: "geneve", vni },
      ...inner(p, R.ip, to.ip, to.mac, R.mac),
    ]);
  const frames = sports.map((p) => {
    switch (path) {
      case "vpc out":
        return frame(inner(p, A.ip, R.ip, GW_MAC));
      case "vpc loopback":
        return frame(inner(p, A.ip, B.ip, GW_MAC));
      case "spoof flood":
        return frame(inner(p, "172.30.0.99", R.ip, GW_MAC));
      case "vpc in":
        return geneve(p, VNI, A);
      case "deny flood":
        return geneve(p, VNI, D);
      case "geneve no port":
        return geneve(p, VNI + 1, A);
    }
  });
  const plan = PLAN[path];
  if (plan.from === "a") links.get(A.name)!.frames = frames;
  else ul[1].frames = frames;
  sw.poll(); // first packets of each flow take the slow path
  return { sw, frames: 32, out: plan.forwards ? 32 : 0, ...sledHooks(sw, all) };
}
