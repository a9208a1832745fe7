// Instances with the real VPC pipeline (lib/vpc vpcPort) on a test sled, and their frames.
import { memoryPair } from "../../lib/link/memory.ts";
import { type LayerSpec } from "../../lib/packet/build.ts";
import type { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import type { Sled } from "./harness.ts";
import { VnetLink } from "./vnet_link.ts";
import { miniVpc } from "./minivpc.ts";
import { SLED as SLED1 } from "./harness.ts";

export const VNI = 10;
export const SLED2 = "fd00:2::1";
export const A = { name: "vm-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
export const B = { name: "vm-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };

/** The real VPC port of instance `g` on sled `s` (whose underlay address is `sled`). */
function vpcPipeline(s: Sled, g: typeof A, sled: string, mappings: Mappings) {
  return vpcPort({
    name: g.name,
    vni: VNI,
    guestMac: g.mac,
    underlay: sled,
    v4: { privateIp: g.ip, subnet: "172.30.0.0/22" },
    mappings,
    clock: () => s.clock.t,
  });
}

/** Adds an instance with a real VPC port on sled `s` (whose underlay address is `sled`). */
export function vm(s: Sled, g: typeof A, sled: string, mappings: Mappings) {
  const [mine, far] = memoryPair(
    { name: g.name, clock: () => s.clock.t },
    { name: `${g.name}-guest`, mac: g.mac, clock: () => s.clock.t },
  );
  const pipeline = vpcPipeline(s, g, sled, mappings);
  s.sw.addPort({ name: g.name, kind: "instance", link: mine, mac: g.mac, vni: VNI, pipeline });
  return far;
}

/**
 * Adds an instance (guest MTU 1500) with a real VPC port whose link carries virtio-net headers
 * like an offloading TAP (`link`), or plain frames with `offload` false; the wire between them
 * takes super-frames.
 */
export function offloadVm(
  s: Sled,
  g: typeof A,
  sled: string,
  mappings: Mappings,
  offload = true,
): { far: ReturnType<typeof memoryPair>[1]; link: VnetLink } {
  const [mine, far] = memoryPair({ name: g.name, mtu: 65535 }, {
    name: `${g.name}-guest`,
    mac: g.mac,
    mtu: 65535,
  });
  const link = new VnetLink(mine);
  const pipeline = vpcPipeline(s, g, sled, mappings);
  s.sw.addPort({
    name: g.name,
    kind: "instance",
    link: offload ? link : mine,
    mac: g.mac,
    vni: VNI,
    pipeline,
    mtu: 1500,
  });
  return { far, link };
}

/** Guest vm-a on `s` behind the mini VPC (vm-b mapped to the second sled, no MSS option). */
export function miniGuest(s: Sled) {
  const [mine, far] = memoryPair({ name: A.name, mtu: 65535 }, {
    name: "guest",
    mac: A.mac,
    mtu: 65535,
  });
  const link = new VnetLink(mine);
  const v2p = new Map([[B.ip, { mac: B.mac, sled: SLED2 }]]);
  const pipeline = miniVpc({ name: A.name, mac: A.mac, vni: 10, sled: SLED1, v2p });
  s.sw.addPort({
    name: A.name,
    kind: "instance",
    link,
    mac: A.mac,
    vni: 10,
    pipeline,
    mtu: 1500,
  });
  return { link, far };
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
