// TCP segmentation in the switch: a TSO super-frame from an offload-capable port (its virtio-net
// header says TCPV4/TCPV6 with gso_size) is split before the VPC pipeline, so each piece is
// encapsulated on its own. Pieces are whole multiples of gso_size, as large as the underlay MTU
// allows ("large segments": the receiving sled hands them to its guest as GSO frames, using the
// MSS carried in the Oxide Geneve option), or exactly gso_size where the far end cannot. The
// same split, told where an outer IPv6/UDP header sits, cuts an encapsulated large segment into
// encapsulated MSS segments (the fallback towards peers that are not xdeno).

import { VirtioNetView, VNET_GSO_TCPV4, VNET_GSO_TCPV6 } from "../packet/virtio_net.ts";
import { markPartial } from "./partial_csum.ts";
import { FrameBatch, HEADROOM, VNET_HDR_LEN } from "../link/link.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import { copyBytes, setU16, setU32, u16, u32 } from "../packet/bytes.ts";
import { IPV4_IDENT, IPV4_TOTAL_LEN } from "../packet/ipv4.ts";
import { IPV6_HEADER_LEN, IPV6_PAYLOAD_LEN } from "../packet/ipv6.ts";
import { TCP_CHECKSUM, TCP_FLAGS, TCP_SEQ } from "../packet/tcp.ts";
import { UDP_CHECKSUM, UDP_LENGTH } from "../packet/udp.ts";
import {
  fillIpv4HeaderChecksum,
  finish,
  fold,
  PROTO_TCP,
  pseudoSum,
  sum16,
  tcpHeaderSum,
} from "../packet/checksum.ts";

const FIN = 0x01, PSH = 0x08, CWR = 0x80;

/** Splits TSO super-frames into a reused batch of complete TCP segments. */
export class Segmenter {
  /** The segments of the last `split` (buffers may be swapped away by transmit queues). */
  readonly batch: FrameBatch;
  private readonly vh = new VirtioNetView(new Uint8Array(0), 0);

  constructor(capacity: number, frameSize: number) {
    this.batch = new FrameBatch(capacity, frameSize, { vnet: true });
  }

  /**
   * Splits the frame at `buf[off]` (parsed into `lv`, header `h` at `ho`) into `batch`; returns
   * the number of segments, or -1 when it is no TCP super-frame this batch can hold. Each
   * segment but the last carries the largest multiple of gso_size not above `maxData` bytes
   * (gso_size when `maxData` is smaller). `outerL3` ≥ 0: the frame is encapsulated, `lv` is the
   * inner level, and the outer IPv6 payload and UDP lengths there are set per segment.
   * `partial`: the TCP checksums are left for the device (the field holds the pseudo-header
   * sum, each segment's virtio-net header says NEEDS_CSUM), so the payload is only moved.
   * `verify` (complete checksums only): -2 when the frame's own TCP checksum is wrong, found
   * from the payload sums the segments' checksums need anyway, so corruption is never hidden
   * behind fresh checksums.
   */
  split(
    h: Uint8Array,
    ho: number,
    buf: Uint8Array,
    off: number,
    lv: HeaderLevel,
    maxData = 0,
    outerL3 = -1,
    partial = false,
    verify = false,
  ): number {
    const vh = this.vh.reset(h, ho);
    const v4 = lv.ipVersion === 4;
    if (vh.gsoKind !== (v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6)) return -1;
    if (lv.proto !== PROTO_TCP || lv.payload < 0 || (!v4 && lv.ipVersion !== 6)) return -1;
    const gso = vh.gsoSize;
    const hdr = lv.payload - off, l3 = lv.l3 - off, l4 = lv.l4 - off, end = lv.ipEnd;
    const data = end - lv.payload;
    if (gso === 0 || data <= 0) return -1;
    // Pieces of `per` MSS units; IPv4 ids advance by units so the far end's TSO keeps them unique.
    const per = Math.max(1, Math.floor(maxData / gso)), mss = per * gso;
    const ol3 = outerL3 < 0 ? -1 : outerL3 - off;
    const n = Math.ceil(data / mss);
    const b = this.batch;
    if (n > b.capacity || HEADROOM + hdr + mss > b.bufs[0].length) return -1;
    const seq0 = u32(buf, lv.l4 + TCP_SEQ);
    const id0 = v4 ? u16(buf, lv.l3 + IPV4_IDENT) : 0;
    const flags = buf[lv.l4 + TCP_FLAGS];
    // Payload sums add up only from even offsets: an odd MSS sums the payload once instead.
    let paySum = verify && (mss & 1) !== 0 ? sum16(buf, lv.payload, data) : 0;
    for (let k = 0; k < n; k++) {
      const o = b.bufs[k], s = HEADROOM, p = lv.payload + k * mss;
      const len = Math.min(mss, end - p);
      copyBytes(buf, off, o, s, hdr);
      copyBytes(buf, p, o, s + hdr, len);
      const ip = s + l3, tcp = s + l4;
      if (v4) {
        setU16(o, ip + IPV4_TOTAL_LEN, hdr - l3 + len);
        setU16(o, ip + IPV4_IDENT, (id0 + k * per) & 0xffff);
        fillIpv4HeaderChecksum(o, ip);
      } else {
        setU16(o, ip + IPV6_PAYLOAD_LEN, hdr - l3 - IPV6_HEADER_LEN + len);
      }
      if (ol3 >= 0) {
        const pl = hdr - ol3 - IPV6_HEADER_LEN + len, u = s + ol3 + IPV6_HEADER_LEN;
        setU16(o, s + ol3 + IPV6_PAYLOAD_LEN, pl);
        setU16(o, u + UDP_LENGTH, pl);
        // Zero UDP checksum over IPv6 for tunnels (RFC 6935), as OPTE sends.
        setU16(o, u + UDP_CHECKSUM, 0);
      }
      setU32(o, tcp + TCP_SEQ, (seq0 + k * mss) >>> 0);
      let f = flags;
      if (k !== n - 1) f &= ~(FIN | PSH);
      if (k !== 0) f &= ~CWR;
      o[tcp + TCP_FLAGS] = f;
      const tcpLen = hdr - l4 + len;
      if (partial) {
        setU16(o, tcp + TCP_CHECKSUM, fold(pseudoSum(o, ip, v4, PROTO_TCP, tcpLen)));
        markPartial(b.vnet, k, l4);
      } else {
        setU16(o, tcp + TCP_CHECKSUM, 0);
        const ds = sum16(o, s + hdr, len);
        if (verify && (mss & 1) === 0) paySum += ds;
        setU16(o, tcp + TCP_CHECKSUM, finish(tcpHeaderSum(o, ip, tcp, s + hdr, tcpLen, v4) + ds));
        b.vnet?.fill(0, k * VNET_HDR_LEN, (k + 1) * VNET_HDR_LEN);
      }
      b.offs[k] = s;
      b.lens[k] = hdr + len;
    }
    b.count = n;
    if (verify && !partial) {
      const hs = tcpHeaderSum(buf, lv.l3, lv.l4, lv.payload, end - lv.l4, v4);
      if (fold(hs + paySum) !== 0xffff) return -2;
    }
    return n;
  }
}

/** A reused virtio-net header asking for TCP segmentation (what `split` reads). */
export class GsoHeader {
  private readonly vh = new VirtioNetView(new Uint8Array(VNET_HDR_LEN), 0);

  /** The header for TCP over IPv`ipVersion` in segments of `mss` bytes. */
  tcp(ipVersion: number, mss: number): Uint8Array {
    const vh = this.vh;
    vh.gsoType = ipVersion === 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
    vh.gsoSize = mss;
    return vh.buf;
  }
}
