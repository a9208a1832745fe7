// Prebuilt outer headers for Geneve encapsulation (Ethernet / IPv6 / UDP 6081 / Geneve with
// Oxide options), built once per flow on the slow path and pushed by the engine's generic
// "push" transform, which patches the length fields per packet.

import { emitEthernet, ETHERNET_HEADER_LEN, ETHERTYPE_IPV6 } from "../packet/ethernet.ts";
import { emitIpv6, IPV6_HEADER_LEN } from "../packet/ipv6.ts";
import {
  emitGeneve,
  GENEVE_PORT,
  geneveBufferLen,
  type GeneveOptionRepr,
  oxideExternalOption,
  oxideMssOption,
} from "../packet/geneve.ts";
import { PROTO_UDP } from "../packet/checksum.ts";
import { emitUdp, UDP_HEADER_LEN } from "../packet/udp.ts";

/** What the outer headers carry. */
export interface GeneveOuter {
  /** This sled's underlay address. */
  src: Uint8Array;
  /** The peer sled (V2P) or boundary-services endpoint (V2B). */
  dst: Uint8Array;
  vni: number;
  /** The inner flow's hash: picks the UDP source port (RFC 8926 §3.3 entropy) and flow label. */
  flowHash: number;
  /** Oxide MSS option value for VPC-internal TCP, or -1 for none. */
  mss?: number;
  /** Oxide external tag (traffic from outside the VPC). */
  external?: boolean;
  /** Outer MACs; the switch rewrites them when it picks the underlay link. */
  srcMac?: Uint8Array;
  dstMac?: Uint8Array;
}

const ZERO_MAC = new Uint8Array(6);

/** The Geneve UDP source port for a flow hash: in the ephemeral range 49152–65535. */
export function geneveSrcPort(flowHash: number): number {
  return 0xc000 | ((flowHash ^ (flowHash >>> 16)) & 0x3fff);
}

/** The outer IPv6 flow label for a flow hash. */
export function geneveFlowLabel(flowHash: number): number {
  return flowHash & 0xfffff;
}

/** Outer Ethernet + IPv6 + UDP (checksum 0) + Geneve bytes; lengths are left for the push. */
export function geneveOuterBytes(o: GeneveOuter): Uint8Array {
  const options: GeneveOptionRepr[] = [];
  if (o.external) options.push(oxideExternalOption());
  if (o.mss !== undefined && o.mss >= 0) options.push(oxideMssOption(o.mss));
  const grepr = { vni: o.vni, options, critical: false };
  const ip = ETHERNET_HEADER_LEN, udp = ip + IPV6_HEADER_LEN, gen = udp + UDP_HEADER_LEN;
  const out = new Uint8Array(gen + geneveBufferLen(grepr));
  emitEthernet(
    { src: o.srcMac ?? ZERO_MAC, dst: o.dstMac ?? ZERO_MAC, etherType: ETHERTYPE_IPV6 },
    out,
    0,
  );
  emitIpv6(
    {
      src: o.src,
      dst: o.dst,
      nextHeader: PROTO_UDP,
      payloadLen: out.length - udp,
      hopLimit: 255,
      flowLabel: geneveFlowLabel(o.flowHash),
    },
    out,
    ip,
  );
  // Checksum stays 0: RFC 6935/6936 allow it for tunnels over IPv6.
  const payloadLen = out.length - udp - UDP_HEADER_LEN;
  emitUdp({ srcPort: geneveSrcPort(o.flowHash), dstPort: GENEVE_PORT, payloadLen }, out, udp);
  emitGeneve(grepr, out, gen);
  return out;
}
