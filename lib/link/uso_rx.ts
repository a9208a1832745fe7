// Software segmentation of UDP_L4 GSO frames for a consumer that takes no virtio-net headers
// (a switch run without offload): a peer xdeno sled sends Geneve as UDP_L4 frames (lib/switch/
// uso.ts) whose UDP payload is cut every gso_size bytes into datagrams, each behind a copy of the
// Ethernet + IPv6 + UDP headers, with its own lengths and a complete UDP checksum — what the
// kernel's UDP segmentation does before a device without offload. The frame is read whole into
// `buf` (up to 64 KiB); its datagrams fill the consumer's batches, across calls if need be.
import { FrameBatch, HEADROOM, type LinkStats, MAX_FRAME } from "./link.ts";
import { VirtioNetView, VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4 } from "../packet/virtio_net.ts";
import { copyBytes, setU16, u16 } from "../packet/bytes.ts";
import { finish, PROTO_UDP, pseudoSumV6, sum16 } from "../packet/checksum.ts";

const L3 = 14, L4 = L3 + 40, HDR = L4 + 8;
const VH = new VirtioNetView(new Uint8Array(0), 0);

/** The datagrams of one UDP_L4 frame still to be handed out. */
export class UdpL4Pieces {
  /** Where the caller reads a frame that may be a UDP_L4 frame. */
  readonly buf = new Uint8Array(MAX_FRAME);
  private len = 0;
  private gso = 0;
  private at = 0;

  /** True while datagrams of the last frame wait. */
  get pending(): boolean {
    return this.at < this.len;
  }

  /**
   * Takes the `len`-byte frame in `buf` with virtio-net header `h[ho]`: true when it is a UDP_L4
   * frame over IPv6 to cut (then `drain` hands out its datagrams); false when it is not one or
   * its header and lengths disagree.
   */
  load(h: Uint8Array, ho: number, len: number): boolean {
    const vh = VH.reset(h, ho), b = this.buf;
    if (vh.gsoKind !== VNET_GSO_UDP_L4) return false;
    const gso = vh.gsoSize, l = len - L4;
    if (
      gso === 0 || len <= HDR || (vh.flags & VNET_F_NEEDS_CSUM) === 0 || vh.csumStart !== L4 ||
      u16(b, 12) !== 0x86dd || b[L3 + 6] !== PROTO_UDP || u16(b, L3 + 4) !== l ||
      u16(b, L4 + 4) !== l || Math.ceil((len - HDR) / gso) > 64
    ) {
      return false;
    }
    this.len = len;
    this.gso = gso;
    this.at = HDR;
    return true;
  }

  /** Writes waiting datagrams into `batch` from slot `n`; returns the next free slot. */
  drain(batch: FrameBatch, n: number, stats: LinkStats): number {
    const b = this.buf;
    while (this.at < this.len && n < batch.capacity) {
      const p = Math.min(this.gso, this.len - this.at), d = batch.bufs[n];
      if (HEADROOM + HDR + p > d.length) {
        stats.rxErrors++; // datagrams larger than the consumer's buffers: the frame is lost
        this.at = this.len;
        break;
      }
      copyBytes(b, 0, d, HEADROOM, HDR);
      copyBytes(b, this.at, d, HEADROOM + HDR, p);
      const u = HEADROOM + L4;
      setU16(d, HEADROOM + L3 + 4, p + 8);
      setU16(d, u + 4, p + 8);
      setU16(d, u + 6, 0);
      const c = finish(sum16(d, u, p + 8, pseudoSumV6(d, HEADROOM + L3, PROTO_UDP, p + 8)));
      setU16(d, u + 6, c === 0 ? 0xffff : c);
      batch.offs[n] = HEADROOM;
      batch.lens[n] = HDR + p;
      stats.rxFrames++;
      stats.rxBytes += HDR + p;
      this.at += p;
      n++;
    }
    return n;
  }
}
