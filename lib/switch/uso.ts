// Geneve between xdeno sleds as UDP_L4 GSO frames (virtio-net GSO_UDP_L4, the kernel's
// UDP_SEGMENT). The kernel cuts a UDP_L4 frame's UDP payload every gso_size bytes and gives each
// piece its own IPv6 + UDP header, so when every piece is one whole Geneve packet (Geneve header
// + inner frame) of exactly gso_size bytes, the last one shorter, each datagram it makes is a
// complete Geneve packet. The sender continues the Geneve frame it queued last for an underlay
// link with the next one to the same peer (same outer headers, MSS option present) by gather
// (`TxQueue.join`: the piece's buffer, its outer headers skipped, no copy); the frame crosses
// veth and forwarding whole and reaches the peer's packet socket as one frame, which the peer
// cuts back into its Geneve packets (`UsoSplitter`, uso_in.ts).
//
// Inner TCP checksums stay as the pieces had them: partial (the pseudo-header sum) for segments
// cut from a guest's TSO frame. The frame is CHECKSUM_PARTIAL at the outer UDP, which only a
// device (or the kernel, before a real wire) completes; the receiving sled treats the inner TCP
// checksum of every Geneve packet that reaches it CHECKSUM_PARTIAL as partial (partial_csum.ts).

import { VirtioNetView, VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4 } from "../packet/virtio_net.ts";
import { type FrameBatch, VNET_HDR_LEN } from "../link/link.ts";
import { bytesEqual, setU16, u16 } from "../packet/bytes.ts";
import { fold, PROTO_UDP, pseudoSumV6 } from "../packet/checksum.ts";
import { IPV6_HEADER_LEN, IPV6_PAYLOAD_LEN } from "../packet/ipv6.ts";
import { isPlainIpv6Udp, USO_HDR, USO_L3, USO_L4, USO_MAX_PIECES } from "../packet/udp_l4.ts";
import { UDP_CHECKSUM, UDP_HEADER_LEN, UDP_LENGTH } from "../packet/udp.ts";
import type { TxQueue } from "./txq.ts";
import { EV } from "./counters.ts";
import { GENEVE_HEADER_LEN, OXIDE_OPT_CLASS, OXIDE_TYPE_MSS } from "../packet/geneve.ts";

const VH = new VirtioNetView(new Uint8Array(0), 0);

/**
 * Continues the Geneve frame queued last in `tx` with Geneve frame `i` of `rx` (`len` bytes at
 * `off`, outer headers as the encapsulation wrote them) when both go to the same peer with
 * identical outer headers and the queued frame's pieces are all as long as its first, this one
 * no longer; true when joined (the buffer now belongs to `tx`). The queued frame becomes (or
 * stays) a UDP_L4 GSO frame. The caller checked the link gathers and takes virtio-net headers.
 */
export function usoJoin(
  tx: TxQueue,
  rx: FrameBatch,
  i: number,
  off: number,
  len: number,
  ev: Float64Array,
): boolean {
  const k = tx.last, q = tx.batch, hv = q.vnet;
  if (k < 0 || hv === null || q.joins === null || q.joins[k] >= USO_MAX_PIECES - 1) return false;
  const p = q.bufs[k], po = q.offs[k], b = rx.bufs[i];
  const piece = len - USO_HDR;
  if (piece <= 0 || !isPlainIpv6Udp(b, off, len)) return false;
  // the queued frame: its first piece sets gso_size; a short piece closed it
  const vh = VH.reset(hv, k * VNET_HDR_LEN);
  const udpLen = u16(p, po + USO_L4 + UDP_LENGTH);
  const total = udpLen - UDP_HEADER_LEN;
  let gso: number;
  if (vh.gsoType === VNET_GSO_UDP_L4) gso = vh.gsoSize;
  else {
    if (vh.isGso || !isPlainIpv6Udp(p, po, q.lens[k])) return false;
    gso = total;
  }
  if (piece > gso || total % gso !== 0 || tx.lastLen - USO_HDR !== total) return false;
  if (UDP_HEADER_LEN + total + piece > 0xffff) return false;
  // Same MACs, IPv6 version/class/label, next header, hop limit, addresses, UDP ports.
  if (!bytesEqual(p, po, b, off, USO_L3 + IPV6_PAYLOAD_LEN)) return false;
  if (!bytesEqual(p, po + USO_L3 + 6, b, off + USO_L3 + 6, IPV6_HEADER_LEN - 6 + 4)) return false;
  if (!tx.join(rx, i, off + USO_HDR, piece)) return false;
  ev[EV["uso-pieces"]]++;
  const l = UDP_HEADER_LEN + total + piece;
  setU16(p, po + USO_L3 + IPV6_PAYLOAD_LEN, l);
  setU16(p, po + USO_L4 + UDP_LENGTH, l);
  // The pseudo-header sum of the whole frame, not complemented: the kernel fixes the length
  // part per datagram and each datagram's checksum is completed at the outer UDP.
  setU16(p, po + USO_L4 + UDP_CHECKSUM, fold(pseudoSumV6(p, po + USO_L3, PROTO_UDP, l)));
  if (vh.gsoType !== VNET_GSO_UDP_L4) {
    ev[EV["uso-out"]]++;
    vh.clear();
    vh.flags = VNET_F_NEEDS_CSUM;
    vh.gsoType = VNET_GSO_UDP_L4;
    vh.gsoSize = gso;
    vh.hdrLen = USO_HDR;
    vh.csumStart = USO_L4;
    vh.csumOffset = UDP_CHECKSUM;
  }
  return true;
}

/** Offset of the Oxide MSS option in the Geneve header at `b[g]`, or -1 (a peer not xdeno). */
export function mssOptionAt(b: Uint8Array, g: number): number {
  const end = g + GENEVE_HEADER_LEN + (b[g] & 0x3f) * 4;
  for (let at = g + GENEVE_HEADER_LEN; at + 4 <= end;) {
    const body = (b[at + 3] & 0x1f) * 4;
    if (
      b[at] === (OXIDE_OPT_CLASS >> 8) && b[at + 1] === (OXIDE_OPT_CLASS & 0xff) &&
      (b[at + 2] & 0x7f) === OXIDE_TYPE_MSS && body >= 4 && at + 8 <= end
    ) {
      return at;
    }
    at += 4 + body;
  }
  return -1;
}
