// Software segmentation of UDP_L4 GSO frames for a consumer that takes no virtio-net headers
// (a switch run without offload): a peer xdeno sled sends Geneve as UDP_L4 frames (lib/switch/
// uso.ts) whose UDP payload is cut every gso_size bytes into datagrams, each behind a copy of the
// Ethernet + IPv6 + UDP headers, with its own lengths and a complete UDP checksum — what the
// kernel's UDP segmentation does before a device without offload. The frame is read whole into
// `buf` (up to 64 KiB); its datagrams fill the consumer's batches, across calls if need be.
import { FrameBatch, HEADROOM, type LinkStats, MAX_FRAME } from "./link.ts";
import { VirtioNetView } from "../packet/virtio_net.ts";
import { setU16 } from "../packet/bytes.ts";
import { finish, PROTO_UDP, pseudoSumV6, sum16 } from "../packet/checksum.ts";
import { UDP_CHECKSUM } from "../packet/udp.ts";
import { copyUdpL4Piece, udpL4Pieces, USO_HDR, USO_L3, USO_L4 } from "../packet/udp_l4.ts";

const VH = new VirtioNetView(new Uint8Array(0), 0);

/** The datagrams of one UDP_L4 frame still to be handed out. */
export class UdpL4Pieces {
  /** Where the caller reads a frame that may be a UDP_L4 frame. */
  readonly buf = new Uint8Array(MAX_FRAME);
  private len = 0;
  private gso = 0;
  /** Datagrams of the frame in `buf`, and the next one to hand out. */
  private n = 0;
  private k = 0;

  /** True while datagrams of the last frame wait. */
  get pending(): boolean {
    return this.k < this.n;
  }

  /**
   * Takes the `len`-byte frame in `buf` with virtio-net header `h[ho]`: true when it is a UDP_L4
   * frame over IPv6 to cut (then `drain` hands out its datagrams); false when it is not one or
   * its header and lengths disagree.
   */
  load(h: Uint8Array, ho: number, len: number): boolean {
    const vh = VH.reset(h, ho), n = udpL4Pieces(vh, this.buf, 0, len);
    if (n < 0) return false;
    this.len = len;
    this.gso = vh.gsoSize;
    this.n = n;
    this.k = 0;
    return true;
  }

  /** Writes waiting datagrams into `batch` from slot `n`; returns the next free slot. */
  drain(batch: FrameBatch, n: number, stats: LinkStats): number {
    while (this.k < this.n && n < batch.capacity) {
      const d = batch.bufs[n], p = Math.min(this.gso, this.len - USO_HDR - this.k * this.gso);
      if (HEADROOM + USO_HDR + p > d.length) {
        stats.rxErrors++; // datagrams larger than the consumer's buffers: the frame is lost
        this.k = this.n;
        break;
      }
      const l = copyUdpL4Piece(this.buf, 0, this.len, this.gso, this.k, d, HEADROOM);
      const u = HEADROOM + USO_L4;
      setU16(d, u + UDP_CHECKSUM, 0);
      const c = finish(
        sum16(d, u, l - USO_L4, pseudoSumV6(d, HEADROOM + USO_L3, PROTO_UDP, l - USO_L4)),
      );
      setU16(d, u + UDP_CHECKSUM, c === 0 ? 0xffff : c);
      batch.offs[n] = HEADROOM;
      batch.lens[n] = l;
      stats.rxFrames++;
      stats.rxBytes += l;
      this.k++;
      n++;
    }
    return n;
  }
}
