// Geneve from the underlay for this sled, UDP_L4 GSO frames included (see uso.ts): a frame the
// packet socket reports as UDP_L4 is cut at gso_size into its Geneve packets, each with a copy
// of the outer headers, and each is handled as a Geneve packet received alone (decapsulation,
// the port's inbound pipeline, GSO frame or MSS segments for the guest).
//
// Inner TCP checksums. A Geneve packet that reaches us CHECKSUM_PARTIAL (virtio-net NEEDS_CSUM
// at the inner TCP, or at the outer UDP: a UDP_L4 frame, or its datagrams where the kernel cut
// it on the way) was built in this machine's memory and crossed no wire: nobody has computed a
// checksum over its bytes since they left the sending guest. An xdeno sender leaves the inner
// TCP checksum of segments cut from a TSO frame partial (the pseudo-header sum), so such an
// inner TCP checksum is taken as partial: handed on partial to an offloading guest, computed
// from the bytes for one without offload. Computing it is right whatever the field held (a
// complete checksum is computed again to the same value), and no damage can hide behind it,
// since the bytes never left memory. (UDP GRO can also make UDP_L4 frames from a wire, but it
// merges only datagrams whose outer UDP checksum, which covers the inner packet, was verified.)
// Datagrams that crossed a wire arrive with the outer UDP checksum complete and the inner one
// still the pseudo-header sum: those are verified by their outer checksum (`acrossWire`).

import { VirtioNetView, VNET_GSO_UDP_L4 } from "../packet/virtio_net.ts";
import { resolveVnet, VnetVerdict } from "../packet/virtio_net.ts";
import { FrameBatch, HEADROOM, VNET_HDR_LEN } from "../link/link.ts";
import { u16 } from "../packet/bytes.ts";
import { fold, PROTO_TCP, pseudoSum, verifyL4Checksum } from "../packet/checksum.ts";
import { OXIDE_OPT_MSS } from "../packet/meta.ts";
import { TCP_CHECKSUM } from "../packet/tcp.ts";
import { UDP_CHECKSUM } from "../packet/udp.ts";
import { parseFrame } from "../packet/parse.ts";
import { innerPartialOnly } from "./partial_csum.ts";
import { DROP, EV, type SwitchCounters } from "./counters.ts";
import type { OverlayPath } from "./overlay.ts";
import {
  copyUdpL4Piece,
  setUdpL4PieceLengths,
  udpL4Pieces,
  USO_HDR,
  USO_MAX_PIECES,
} from "../packet/udp_l4.ts";

const VH = new VirtioNetView(new Uint8Array(0), 0);

/** Hands Geneve frames for this sled to the overlay path, cutting UDP_L4 frames first. */
export class GeneveIn {
  /**
   * Pieces 2… of the frame being cut (made on the first UDP_L4 frame, with the receive
   * batch's buffer size: the buffers swap with transmit queues).
   */
  private pieces: FrameBatch | null = null;

  constructor(private readonly ov: OverlayPath, private readonly counters: SwitchCounters) {}

  /** Frame `i` of `rx` is Geneve to this sled, parsed into the overlay packet's meta. */
  frame(rx: FrameBatch, i: number): void {
    const v = rx.vnet;
    if (v !== null) {
      const m = this.ov.pkt.meta, vh = VH.reset(v, i * VNET_HDR_LEN);
      if (vh.gsoKind === VNET_GSO_UDP_L4) return this.split(rx, i);
      if (innerPartialOnly(v, i, m.outer, m.inner, rx.offs[i])) {
        return this.ov.inbound(rx, i, false, true);
      }
      if (!vh.isPlain) {
        const r = resolveVnet(v, i * VNET_HDR_LEN, rx.bufs[i], rx.offs[i], rx.lens[i]);
        if (r === VnetVerdict.Drop) return void this.counters.drops[DROP.gso]++;
        vh.clear();
      }
    }
    const w = this.acrossWire(rx, i);
    if (w < 0) return void this.counters.drops[DROP["bad-checksum"]]++;
    this.ov.inbound(rx, i, false, w === 1);
  }

  /**
   * A datagram cut from a UDP_L4 frame that crossed a wire (a NIC or the kernel completed its
   * outer UDP checksum, not the inner one): 1 when its inner TCP checksum holds exactly the
   * pseudo-header sum, the packet comes from an xdeno peer (MSS option), and the outer UDP
   * checksum, which covers the inner packet, is right (the inner one is then taken as
   * partial); -1 when that outer checksum is wrong; 0 otherwise (the packet as it is).
   */
  private acrossWire(rx: FrameBatch, i: number): number {
    const m = this.ov.pkt.meta, o = m.outer, f = m.inner, b = rx.bufs[i];
    if (f.proto !== PROTO_TCP || f.l4 < 0 || (m.oxideOpts & OXIDE_OPT_MSS) === 0) return 0;
    if (u16(b, o.l4 + UDP_CHECKSUM) === 0) return 0;
    const ps = fold(pseudoSum(b, f.l3, f.ipVersion === 4, PROTO_TCP, f.ipEnd - f.l4));
    if (u16(b, f.l4 + TCP_CHECKSUM) !== ps) return 0;
    return verifyL4Checksum(b, o) ? 1 : -1;
  }

  /** Cuts the UDP_L4 frame `i` of `rx` into its Geneve packets and handles each in order. */
  private split(rx: FrameBatch, i: number): void {
    const b = rx.bufs[i], off = rx.offs[i], len = rx.lens[i];
    const vh = VH.reset(rx.vnet!, i * VNET_HDR_LEN), gso = vh.gsoSize;
    const n = udpL4Pieces(vh, b, off, len);
    if (n < 0) return void this.counters.drops[DROP["uso-malformed"]]++;
    this.counters.events[EV["uso-in"]]++;
    const pb = this.pieces ??= new FrameBatch(USO_MAX_PIECES - 1, b.length, { vnet: true });
    // Copy pieces 2… out before the first one, cut in place, leaves with this buffer.
    for (let k = 1; k < n; k++) {
      pb.lens[k - 1] = copyUdpL4Piece(b, off, len, gso, k, pb.bufs[k - 1], HEADROOM);
      pb.offs[k - 1] = HEADROOM;
    }
    pb.vnet!.fill(0);
    const first = Math.min(gso, len - USO_HDR);
    setUdpL4PieceLengths(b, off, first);
    rx.lens[i] = USO_HDR + first;
    rx.vnet!.fill(0, i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN);
    this.piece(rx, i);
    for (let k = 0; k < n - 1; k++) this.piece(pb, k);
  }

  /** One Geneve packet cut from a UDP_L4 frame: its inner TCP checksum counts as partial. */
  private piece(batch: FrameBatch, k: number): void {
    const m = this.ov.pkt.meta;
    if (parseFrame(batch.bufs[k], batch.offs[k], batch.lens[k], m) !== null || !m.encap) {
      return void this.counters.drops[DROP["uso-malformed"]]++;
    }
    this.ov.inbound(batch, k, false, m.inner.proto === PROTO_TCP && m.inner.l4 >= 0);
  }
}
