// Two VMs on VNI 10 on two sleds behind the real VPC pipeline, and a guest's TSO frame: the
// fixture of the large-segment and UDP_L4 tests on memory links.
import type { LayerSpec } from "../../lib/packet/build.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { offloadVm } from "./vpcsled.ts";
import { frame, GW_MAC, routedSled, SLED, type Sled } from "./harness.ts";

export const SLED2 = "fd00:2::1";
export const VA = { name: "vm-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", sled: SLED };
export const VB = { name: "vm-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11", sled: SLED2 };
export const MSS = 1448;
/** A TCPv4 TSO header (gso_size 1448), as a guest's virtio-net driver sends it. */
export const TSO = Uint8Array.of(0, 1, 54, 0, MSS & 0xff, MSS >> 8, 0, 0, 0, 0);

/** Guest TCP layers (IPv4 vm-a → vm-b). */
export function tcp(
  src: string,
  dst: string,
  seq: number,
  flags: number,
  data: Uint8Array,
  id: number,
): LayerSpec[] {
  return [
    { type: "ethernet", src, dst },
    { type: "ipv4", src: VA.ip, dst: VB.ip, ttl: 64, id, df: true },
    { type: "tcp", srcPort: 40000, dstPort: 5201, seq, ack: 9, flags, window: 512 },
    { type: "payload", data },
  ] as LayerSpec[];
}

/**
 * A sled with guest `g` and the real VPC pipeline; the guest's link offloads unless `offload`
 * is false; the underlay carries virtio-net headers with `ulVnet` ("gather": and gathers trains,
 * as the runtime's packet socket does).
 */
export function vpcSled(
  addr: string,
  g: typeof VA,
  o: { offload?: boolean; ulVnet?: boolean | "gather"; ulMtu?: number } = {},
) {
  const s = routedSled({
    cfg: { vnet: true, sledAddress: addr },
    ulVnet: o.ulVnet,
    ulMtu: o.ulMtu,
  });
  const maps = new Mappings();
  for (const v of [VA, VB]) maps.v2p.set(10, v.ip, v.mac, v.sled);
  return { s, ...offloadVm(s, g, addr, maps, o.offload !== false) };
}

/** A handshake and one TSO frame of `data` from vm-a; what `take` found sled a sent after each. */
export function tsoSend<T>(a: ReturnType<typeof vpcSled>, data: Uint8Array, take: (s: Sled) => T) {
  a.far.inject(frame(tcp(VA.mac, GW_MAC, 99, 0x02, new Uint8Array(0), 0xff)));
  a.s.step();
  const syn = take(a.s);
  a.link.inbound.push(TSO);
  a.far.inject(frame(tcp(VA.mac, GW_MAC, 100, 0x18, data, 0x100)));
  a.s.step();
  return { syn, got: take(a.s) };
}
