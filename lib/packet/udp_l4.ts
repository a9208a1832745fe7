// The geometry of a UDP_L4 GSO frame over IPv6 (virtio-net GSO_UDP_L4, the kernel's
// UDP_SEGMENT): Ethernet, IPv6 without extension headers and UDP, then a UDP payload the kernel
// cuts every gso_size bytes into datagrams, each behind a copy of those headers with its own
// lengths. Shared by the sender that builds such frames (lib/switch/uso.ts), the switch that cuts
// them (lib/switch/uso_in.ts) and the link that cuts them for a consumer without virtio-net
// headers (lib/link/uso_rx.ts).
import { type VirtioNetView, VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4 } from "./virtio_net.ts";
import { copyBytes, setU16, u16 } from "./bytes.ts";
import { PROTO_UDP } from "./checksum.ts";
import { ETHERNET_HEADER_LEN, ETHERTYPE_IPV6 } from "./ethernet.ts";
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LEN } from "./ipv6.ts";
import { UDP_CHECKSUM, UDP_HEADER_LEN, UDP_LENGTH } from "./udp.ts";

/** Where the outer IPv6 header starts: Ethernet without a VLAN tag. */
export const USO_L3 = ETHERNET_HEADER_LEN;
/** Where the outer UDP header starts (no IPv6 extension headers). */
export const USO_L4 = USO_L3 + IPV6_HEADER_LEN;
/** Outer headers in front of each piece: Ethernet, IPv6, UDP (62 bytes). */
export const USO_HDR = USO_L4 + UDP_HEADER_LEN;
/** The kernel's UDP_MAX_SEGMENTS: most pieces of one UDP_L4 frame. */
export const USO_MAX_PIECES = 64;

/** True for Ethernet + IPv6 (no extension headers) + UDP whose lengths match the frame. */
export function isPlainIpv6Udp(b: Uint8Array, off: number, len: number): boolean {
  if (len <= USO_HDR || u16(b, off + USO_L3 - 2) !== ETHERTYPE_IPV6) return false;
  if (b[off + USO_L3 + IPV6_NEXT_HEADER] !== PROTO_UDP) return false;
  const l = len - USO_L4;
  return u16(b, off + USO_L3 + IPV6_PAYLOAD_LEN) === l && u16(b, off + USO_L4 + UDP_LENGTH) === l;
}

/**
 * How many datagrams the UDP_L4 frame at `b[off]` (`len` bytes, virtio-net header `vh`) cuts
 * into, or -1 when it is no UDP_L4 frame over plain IPv6/UDP or its header and lengths disagree
 * (no gso_size, not NEEDS_CSUM at the outer UDP, more than the kernel's 64 pieces).
 */
export function udpL4Pieces(vh: VirtioNetView, b: Uint8Array, off: number, len: number): number {
  if (vh.gsoKind !== VNET_GSO_UDP_L4) return -1;
  const gso = vh.gsoSize, n = gso > 0 ? Math.ceil((len - USO_HDR) / gso) : 0;
  if (
    n < 1 || n > USO_MAX_PIECES || !isPlainIpv6Udp(b, off, len) ||
    (vh.flags & VNET_F_NEEDS_CSUM) === 0 || vh.csumStart !== USO_L4 ||
    vh.csumOffset !== UDP_CHECKSUM
  ) {
    return -1;
  }
  return n;
}

/** Writes the IPv6 payload and UDP lengths of a datagram of `l` UDP payload bytes at `b[off]`. */
export function setUdpL4PieceLengths(b: Uint8Array, off: number, l: number): void {
  setU16(b, off + USO_L3 + IPV6_PAYLOAD_LEN, l + UDP_HEADER_LEN);
  setU16(b, off + USO_L4 + UDP_LENGTH, l + UDP_HEADER_LEN);
}

/**
 * Copies datagram `k` of the UDP_L4 frame at `b[off]` (`len` bytes, `gso` = gso_size) to
 * `d[doff]`: the outer headers, then its piece of the payload, with its own lengths (the UDP
 * checksum field is left as the frame had it). Returns the datagram's length.
 */
export function copyUdpL4Piece(
  b: Uint8Array,
  off: number,
  len: number,
  gso: number,
  k: number,
  d: Uint8Array,
  doff: number,
): number {
  const at = USO_HDR + k * gso, l = Math.min(gso, len - at);
  copyBytes(b, off, d, doff, USO_HDR);
  copyBytes(b, off + at, d, doff + USO_HDR, l);
  setUdpL4PieceLengths(d, doff, l);
  return USO_HDR + l;
}
