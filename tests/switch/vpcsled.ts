// Instances with the real VPC pipeline (lib/vpc vpcPort) on a test sled, and their frames.
import { memoryPair } from "../../lib/link/memory.ts";
import { type LayerSpec } from "../../lib/packet/build.ts";
import type { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import type { Sled } from "./harness.ts";

export const VNI = 10;
export const SLED2 = "fd00:2::1";
export const A = { name: "vm-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
export const B = { name: "vm-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };

/** Adds an instance with a real VPC port on sled `s` (whose underlay address is `sled`). */
export function vm(s: Sled, g: typeof A, sled: string, mappings: Mappings) {
  const [mine, far] = memoryPair(
    { name: g.name, clock: () => s.clock.t },
    { name: `${g.name}-guest`, mac: g.mac, clock: () => s.clock.t },
  );
  const pipeline = vpcPort({
    name: g.name,
    vni: VNI,
    guestMac: g.mac,
    underlay: sled,
    v4: { privateIp: g.ip, subnet: "172.30.0.0/22" },
    mappings,
    clock: () => s.clock.t,
  });
  s.sw.addPort({ name: g.name, kind: "instance", link: mine, mac: g.mac, vni: VNI, pipeline });
  return far;
}

/** Layers of a guest's UDP datagram from `src` to `dst`. */
export function udp4(
  srcMac: string,
  dstMac: string,
  src: string,
  dst: string,
  ttl = 64,
  srcPort = 3333,
): LayerSpec[] {
  return [
    { type: "ethernet", src: srcMac, dst: dstMac },
    { type: "ipv4", src, dst, ttl, id: 77 },
    { type: "udp", srcPort, dstPort: 4444 },
    { type: "payload", data: "through the VPC" },
  ];
}
