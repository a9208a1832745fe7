// Receive coalescing (GRO) towards ports that take GSO (`takesGso`, offload or not): in-order TCP
// segments of one flow that arrive in the same pass are appended to the frame already queued for
// the port, which then leaves as one GSO super-frame (virtio-net header TCPV4/TCPV6, partial
// checksum). The guest's kernel handles one frame and one TAP write instead of dozens.

import {
  VirtioNetView,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
} from "../packet/virtio_net.ts";
import { type FrameBatch, takesGso, VNET_HDR_LEN } from "../link/link.ts";
import { TCP_ACK_NO, TCP_CHECKSUM, TCP_DATA_OFF, TCP_FLAGS, TCP_SEQ } from "../packet/tcp.ts";
import { TCP_HEADER_LEN } from "../packet/tcp.ts";
import {
  ETH_ETHERTYPE,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
} from "../packet/ethernet.ts";
import {
  IPV4_CHECKSUM,
  IPV4_FLAGS_FRAG,
  IPV4_HEADER_LEN,
  IPV4_PROTO,
  IPV4_SRC,
  IPV4_TOS,
  IPV4_TOTAL_LEN,
  IPV4_TTL,
} from "../packet/ipv4.ts";
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LEN } from "../packet/ipv6.ts";
import { bytesEqual, copyBytes, setU16, u16, u32 } from "../packet/bytes.ts";
import { fillIpv4HeaderChecksum, fold, PROTO_TCP, pseudoSum, sum16 } from "../packet/checksum.ts";
import type { TxQueue } from "./txq.ts";
import { leavePartial } from "./partial_csum.ts";

const ACK = 0x10, PSH = 0x08;
/** One reused view for the header being read or written (the datapath is single-threaded). */
const VH = new VirtioNetView(new Uint8Array(0), 0);

/** Offsets of a plain Ethernet + IPv4/IPv6 (no options/extensions) + TCP frame, or -1. */
export function tcpHeaders(b: Uint8Array, off: number, len: number): number {
  if (len < ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN) return -1;
  const et = u16(b, off + ETH_ETHERTYPE), l3 = off + ETHERNET_HEADER_LEN;
  let l4: number;
  if (et === ETHERTYPE_IPV4) {
    // No options, no fragments.
    if (b[l3] !== 0x45 || b[l3 + IPV4_PROTO] !== PROTO_TCP) return -1;
    if ((u16(b, l3 + IPV4_FLAGS_FRAG) & 0x3fff) !== 0) return -1;
    l4 = l3 + IPV4_HEADER_LEN;
  } else if (et === ETHERTYPE_IPV6) {
    if (b[l3 + IPV6_NEXT_HEADER] !== PROTO_TCP) return -1;
    l4 = l3 + IPV6_HEADER_LEN;
  } else return -1;
  const thl = (b[l4 + TCP_DATA_OFF] >> 4) << 2;
  return thl < TCP_HEADER_LEN || l4 + thl > off + len ? -1 : l4 + thl;
}

/** End of the IP datagram at `l3` per its header (frames may carry padding). */
export function ipEnd(b: Uint8Array, l3: number): number {
  return b[l3] >> 4 === 4
    ? l3 + u16(b, l3 + IPV4_TOTAL_LEN)
    : l3 + IPV6_HEADER_LEN + u16(b, l3 + IPV6_PAYLOAD_LEN);
}

/**
 * Appends the TCP segment at `buf[off]` to the last frame queued in `tx` when both belong to
 * one flow, in order, with identical headers but for length, sequence and id; true when merged
 * (the caller then drops its copy). `segMss` > 0: the segment is itself a large segment of
 * that MSS, which may join a train of the same MSS. Given `rx` with `rx.bufs[i] === buf` and a
 * link that gathers, the payload is not copied: its buffer joins the queue behind the frame.
 */
export function coalesce(
  tx: TxQueue,
  buf: Uint8Array,
  off: number,
  len: number,
  segMss = 0,
  rx: FrameBatch | null = null,
  i = 0,
): boolean {
  const q = tx.batch, v = q.vnet, k = tx.last;
  if (v === null || k < 0 || !takesGso(tx.link)) return false;
  const pay = tcpHeaders(buf, off, len);
  if (pay < 0) return false;
  const gather = q.joins !== null && rx !== null && rx.bufs[i] === buf;
  // Bytes can only be appended in place to a frame no slot continues yet.
  if (!gather && q.joins !== null && q.joins[k] !== 0) return false;
  const p = q.bufs[k], po = q.offs[k], plen = tx.lastLen;
  const hdr = pay - off;
  if (tcpHeaders(p, po, plen) !== po + hdr) return false;
  const l3 = ETHERNET_HEADER_LEN, v4 = u16(buf, off + ETH_ETHERTYPE) === ETHERTYPE_IPV4;
  const l4 = l3 + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
  const dataEnd = ipEnd(buf, off + l3), n = dataEnd - pay;
  const pEnd = ipEnd(p, po + l3), pn = pEnd - (po + hdr);
  if (n <= 0 || dataEnd > off + len || pEnd > po + plen || pn <= 0) return false;
  // The queued frame: only ACK (or PSH on the last, which ends the train), whole MSS units.
  const vo = k * VNET_HDR_LEN, vh = VH.reset(v, vo);
  const merged = vh.gsoType !== 0;
  const mss = merged ? vh.gsoSize : pn;
  if (p[po + l4 + TCP_FLAGS] !== ACK || pn % mss !== 0) return false;
  if (n > mss && (segMss !== mss || !merged)) return false;
  const f = buf[off + l4 + TCP_FLAGS];
  if (f !== ACK && f !== (ACK | PSH)) return false;
  // A lone frame may be plain or have its TCP checksum partial (markGso redoes that).
  if (!merged && vh.flags !== 0) {
    if (vh.flags !== VNET_F_NEEDS_CSUM || vh.csumStart !== l4 || vh.csumOffset !== TCP_CHECKSUM) {
      return false;
    }
  }
  if ((!gather && pEnd + n > p.length) || pEnd - po - l3 + n > 65535) return false;
  // The train's IP datagram ends where the frame does (no padding to write the payload past).
  if (gather && pEnd !== po + plen) return false;
  if (!sameHeaders(p, po, buf, off, hdr, v4)) return false;
  const a = po + l3;
  const pseq = u32(p, po + l4 + TCP_SEQ), seq = u32(buf, off + l4 + TCP_SEQ);
  if (((pseq + pn) >>> 0) !== seq) return false;
  // Merge: payload, lengths, flags; the checksum is left partial for the receiver.
  if (gather) {
    if (!tx.join(rx, i, pay, n)) return false;
  } else copyBytes(buf, pay, p, pEnd, n);
  const ipLen = pEnd + n - po - l3;
  if (v4) {
    setU16(p, a + IPV4_TOTAL_LEN, ipLen);
    fillIpv4HeaderChecksum(p, a);
  } else {
    setU16(p, a + IPV6_PAYLOAD_LEN, ipLen - IPV6_HEADER_LEN);
  }
  p[po + l4 + TCP_FLAGS] = f;
  if (!gather) q.lens[k] = pEnd + n - po;
  markGso(p, po, v, vo, hdr, mss);
  return true;
}

/**
 * Makes the plain Ethernet/IP/TCP frame at `b[off]` (headers `hdr` bytes, IP lengths already
 * final) a GSO frame of `mss`: the TCP checksum left partial (pseudo-header sum) and the
 * virtio-net header at `v[vo]` saying so.
 */
function markGso(b: Uint8Array, off: number, v: Uint8Array, vo: number, hdr: number, mss: number) {
  const l3 = off + ETHERNET_HEADER_LEN, v4 = u16(b, off + ETH_ETHERTYPE) === ETHERTYPE_IPV4;
  const l4 = l3 + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
  const tcpLen = ipEnd(b, l3) - l4;
  leavePartial(b, off, l3, l4, v4, tcpLen, v, vo / VNET_HDR_LEN, hdr);
  const vh = VH.reset(v, vo);
  vh.gsoType = v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
  vh.gsoSize = mss;
}

/**
 * Queues the large TCP segment at `buf[off]` (from a Geneve packet carrying the Oxide MSS
 * option) for `tx`'s link (one that takes GSO) as one GSO frame of `mss`, appended to the train
 * queued before it when it continues it. False when it is no plain TCP frame, or its checksum
 * is complete (not `partial`) and wrong: the caller splits it, and drops it there.
 */
export function queueGso(
  tx: TxQueue,
  rx: FrameBatch,
  i: number,
  off: number,
  len: number,
  mss: number,
  partial: boolean,
): boolean {
  const buf = rx.bufs[i], pay = tcpHeaders(buf, off, len);
  if (pay < 0 || tx.batch.vnet === null) return false;
  // The GSO frame's checksum is left partial: nobody would check this one again.
  if (!partial && !tcpChecksumOk(buf, off)) return false;
  if (coalesce(tx, buf, off, len, mss, rx, i)) return true;
  tx.push(rx, i, off, len);
  const q = tx.batch, k = tx.last;
  markGso(q.bufs[k], off, q.vnet!, k * VNET_HDR_LEN, pay - off, mss);
  return true;
}

/**
 * True when the TCP frames at `p[po]` and `buf[off]` (headers `hdr` bytes) differ only in
 * length, sequence, flags, checksums and IPv4 id: one flow, one train.
 */
export function sameHeaders(
  p: Uint8Array,
  po: number,
  buf: Uint8Array,
  off: number,
  hdr: number,
  v4: boolean,
): boolean {
  const l3 = ETHERNET_HEADER_LEN, l4 = l3 + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
  // Same addresses, ports, ack, window, options; IPv4 TOS/flags/TTL; IPv6 class/label/hops.
  if (!bytesEqual(p, po, buf, off, ETH_ETHERTYPE)) return false;
  const a = po + l3, b = off + l3;
  if (v4) {
    if (p[a + IPV4_TOS] !== buf[b + IPV4_TOS]) return false;
    if (p[a + IPV4_FLAGS_FRAG] !== buf[b + IPV4_FLAGS_FRAG]) return false;
    // TTL and protocol, then the addresses (the header checksum between them differs).
    if (!bytesEqual(p, a + IPV4_TTL, buf, b + IPV4_TTL, IPV4_CHECKSUM - IPV4_TTL)) return false;
    if (!bytesEqual(p, a + IPV4_SRC, buf, b + IPV4_SRC, IPV4_HEADER_LEN - IPV4_SRC)) return false;
  } else {
    // Version, class and label; then next header, hop limit and the addresses.
    if (!bytesEqual(p, a, buf, b, IPV6_PAYLOAD_LEN)) return false;
    if (
      !bytesEqual(
        p,
        a + IPV6_NEXT_HEADER,
        buf,
        b + IPV6_NEXT_HEADER,
        IPV6_HEADER_LEN - IPV6_NEXT_HEADER,
      )
    ) {
      return false;
    }
  }
  for (let j = 0; j < hdr - l4; j++) {
    if (j >= TCP_SEQ && j < TCP_ACK_NO) continue; // sequence
    if (j === TCP_FLAGS || j === TCP_CHECKSUM || j === TCP_CHECKSUM + 1) continue;
    if (p[po + l4 + j] !== buf[off + l4 + j]) return false;
  }
  return true;
}

/** True when the TCP checksum of the plain frame at `b[off]` (see `tcpHeaders`) is right. */
function tcpChecksumOk(b: Uint8Array, off: number): boolean {
  const l3 = off + ETHERNET_HEADER_LEN, v4 = u16(b, off + ETH_ETHERTYPE) === ETHERTYPE_IPV4;
  const l4 = l3 + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN), n = ipEnd(b, l3) - l4;
  return fold(sum16(b, l4, n, pseudoSum(b, l3, v4, PROTO_TCP, n))) === 0xffff;
}

/**
 * True when the frame at `buf[off]`, from the wire with a complete checksum, may head or join a
 * train for `tx`: a TCP segment with data whose checksum is right (a train's checksum is left
 * partial, so the receiver never checks the segment's own again), or anything `coalesce` would
 * not merge anyway. Queue a frame it refuses, then `tx.seal()`: it travels alone, as sent.
 */
export function checkedForTrain(tx: TxQueue, buf: Uint8Array, off: number, len: number): boolean {
  if (tx.batch.vnet === null || !takesGso(tx.link)) return true;
  const pay = tcpHeaders(buf, off, len);
  if (pay < 0 || ipEnd(buf, off + ETHERNET_HEADER_LEN) <= pay) return true;
  return tcpChecksumOk(buf, off);
}
