// The one partial checksum the overlay path carries: the inner TCP checksum of a segment cut
// from a guest's TSO frame. Between xdeno sleds it stays partial (the field holds the
// pseudo-header sum, the virtio-net header says NEEDS_CSUM) and the underlay packet socket hands
// it to the kernel as CHECKSUM_PARTIAL: veth and forwarding keep it so, a NIC or the kernel's
// software fallback completes it, and the receiving sled hands it on to a guest (offload or not)
// still partial. Wherever it leaves for a consumer that cannot finish it, it is completed here.

import { VirtioNetView, VNET_F_NEEDS_CSUM } from "../packet/virtio_net.ts";
import { VNET_HDR_LEN } from "../link/link.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import { setU16 } from "../packet/bytes.ts";
import { fillL4Checksum, fold, PROTO_TCP, pseudoSum } from "../packet/checksum.ts";
import { TCP_CHECKSUM } from "../packet/tcp.ts";
import { UDP_CHECKSUM } from "../packet/udp.ts";

/** One reused view for the header being read or written (the datapath is single-threaded). */
const VH = new VirtioNetView(new Uint8Array(0), 0);

/**
 * Says in header `k` of `v` (null: the batch carries none) that the frame's TCP checksum, with
 * the TCP header `l4` bytes and its payload `hdrLen` bytes from the frame start, holds only the
 * pseudo-header sum.
 */
export function markPartial(v: Uint8Array | null, k: number, l4: number, hdrLen = 0): void {
  if (v === null) return;
  const vh = VH.reset(v, k * VNET_HDR_LEN);
  vh.clear();
  vh.flags = VNET_F_NEEDS_CSUM;
  vh.hdrLen = hdrLen;
  vh.csumStart = l4;
  vh.csumOffset = TCP_CHECKSUM;
}

/**
 * Leaves the TCP checksum of the frame at `b[off]` (IP header at `l3`, TCP at `l4`, `tcpLen`
 * bytes of TCP) partial: the pseudo-header sum in its field, and header `k` of `v` saying so
 * (`hdrLen`: headers before the payload, for a GSO frame).
 */
export function leavePartial(
  b: Uint8Array,
  off: number,
  l3: number,
  l4: number,
  v4: boolean,
  tcpLen: number,
  v: Uint8Array | null,
  k: number,
  hdrLen = 0,
): void {
  setU16(b, l4 + TCP_CHECKSUM, fold(pseudoSum(b, l3, v4, PROTO_TCP, tcpLen)));
  markPartial(v, k, l4 - off, hdrLen);
}

/** True when header `k` of `v` says the frame's checksum is partial. */
export function isPartial(v: Uint8Array | null, k: number): boolean {
  return v !== null && (v[k * VNET_HDR_LEN] & VNET_F_NEEDS_CSUM) !== 0;
}

/** Writes the pseudo-header sum of TCP level `lv` into its checksum field (partial form). */
export function setPseudoSum(buf: Uint8Array, lv: HeaderLevel): void {
  const len = lv.ipEnd - lv.l4;
  setU16(
    buf,
    lv.l4 + TCP_CHECKSUM,
    fold(pseudoSum(buf, lv.l3, lv.ipVersion === 4, PROTO_TCP, len)),
  );
}

/** Completes TCP level `lv`'s checksum from scratch (what the device would have done). */
export function finishPartial(buf: Uint8Array, lv: HeaderLevel): void {
  fillL4Checksum(buf, lv);
}

/**
 * True (and the header cleared) when header `k` of `v` asks only that a checksum of a Geneve
 * frame starting at `off` be completed and its inner TCP checksum (level `inner`) is to be taken
 * as partial: NEEDS_CSUM at the inner TCP (the one partial checksum the overlay path carries
 * through), or at the outer UDP (level `outer`) of a frame built in this machine, such as a
 * datagram the kernel cut from a UDP_L4 frame (see uso_in.ts for why that is sound).
 */
export function innerPartialOnly(
  v: Uint8Array | null,
  k: number,
  outer: HeaderLevel,
  inner: HeaderLevel,
  off: number,
): boolean {
  if (v === null || inner.proto !== PROTO_TCP || inner.l4 < 0) return false;
  const vh = VH.reset(v, k * VNET_HDR_LEN);
  if (vh.flags !== VNET_F_NEEDS_CSUM || vh.gsoType !== 0) return false;
  const at = vh.csumStart, field = vh.csumOffset;
  if (
    at === inner.l4 - off ? field !== TCP_CHECKSUM : at !== outer.l4 - off || field !== UDP_CHECKSUM
  ) {
    return false;
  }
  vh.clear();
  return true;
}
