// Receive coalescing (GRO) towards offloading ports: in-order TCP segments of one flow that
// arrive in the same pass are appended to the frame already queued for the port, which then
// leaves as one GSO super-frame (virtio-net header TCPV4/TCPV6, partial checksum). The guest's
// kernel handles one frame and one TAP write instead of dozens.

import {
  VirtioNetView,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
} from "../packet/virtio_net.ts";
import { type FrameBatch, VNET_HDR_LEN } from "../link/link.ts";
import { TCP_CHECKSUM } from "../packet/tcp.ts";
import type { TxQueue } from "./txq.ts";

const ACK = 0x10, PSH = 0x08;
/** One reused view for the header being read or written (the datapath is single-threaded). */
const VH = new VirtioNetView(new Uint8Array(0), 0);

/** Offsets of a plain Ethernet + IPv4/IPv6 (no options/extensions) + TCP frame, or -1. */
function tcpHeaders(b: Uint8Array, off: number, len: number): number {
  if (len < 54) return -1;
  const et = (b[off + 12] << 8) | b[off + 13], l3 = off + 14;
  let l4: number;
  if (et === 0x0800) {
    // No options, no fragments.
    if (b[l3] !== 0x45 || b[l3 + 9] !== 6 || (b[l3 + 6] & 0x3f) !== 0 || b[l3 + 7] !== 0) {
      return -1;
    }
    l4 = l3 + 20;
  } else if (et === 0x86dd) {
    if (b[l3 + 6] !== 6) return -1;
    l4 = l3 + 40;
  } else return -1;
  const thl = (b[l4 + 12] >> 4) << 2;
  return thl < 20 || l4 + thl > off + len ? -1 : l4 + thl;
}

/** Length of the IP datagram at `l3` per its header (frames may carry padding). */
function ipEnd(b: Uint8Array, l3: number): number {
  return b[l3] >> 4 === 4
    ? l3 + ((b[l3 + 2] << 8) | b[l3 + 3])
    : l3 + 40 + ((b[l3 + 4] << 8) | b[l3 + 5]);
}

/**
 * Appends the TCP segment at `buf[off]` to the last frame queued in `tx` when both belong to
 * one flow, in order, with identical headers but for length, sequence and id; true when merged
 * (the caller then drops its copy). `segMss` > 0: the segment is itself a large segment of
 * that MSS, which may join a train of the same MSS.
 */
export function coalesce(
  tx: TxQueue,
  buf: Uint8Array,
  off: number,
  len: number,
  segMss = 0,
): boolean {
  const q = tx.batch, v = q.vnet;
  if (v === null || q.count === 0 || (tx.link as { vnet?: boolean }).vnet !== true) return false;
  const pay = tcpHeaders(buf, off, len);
  if (pay < 0) return false;
  const k = q.count - 1, p = q.bufs[k], po = q.offs[k], plen = q.lens[k];
  const hdr = pay - off;
  if (tcpHeaders(p, po, plen) !== po + hdr) return false;
  const l3 = 14, v4 = buf[off + 12] === 0x08, l4 = l3 + (v4 ? 20 : 40);
  const dataEnd = ipEnd(buf, off + l3), n = dataEnd - pay;
  const pEnd = ipEnd(p, po + l3), pn = pEnd - (po + hdr);
  if (n <= 0 || dataEnd > off + len || pEnd > po + plen || pn <= 0) return false;
  // The queued frame: only ACK (or PSH on the last, which ends the train), whole MSS units.
  const vo = k * VNET_HDR_LEN, vh = VH.reset(v, vo);
  const merged = vh.gsoType !== 0;
  const mss = merged ? vh.gsoSize : pn;
  if (p[po + l4 + 13] !== ACK || pn % mss !== 0) return false;
  if (n > mss && (segMss !== mss || !merged)) return false;
  const f = buf[off + l4 + 13];
  if (f !== ACK && f !== (ACK | PSH)) return false;
  if (vh.flags !== 0 && !merged) return false;
  if (pEnd + n > p.length || pEnd - po - l3 + n > 65535) return false;
  // Same addresses, ports, ack, window, options; IPv4 TOS/flags/TTL; IPv6 class/label/hops.
  for (let j = 0; j < 12; j++) if (p[po + j] !== buf[off + j]) return false;
  if (v4) {
    if (p[po + l3 + 1] !== buf[off + l3 + 1] || p[po + l3 + 6] !== buf[off + l3 + 6]) return false;
    for (let j = 8; j < 20; j++) {
      if (j !== 10 && j !== 11 && p[po + l3 + j] !== buf[off + l3 + j]) return false;
    }
  } else {
    for (let j = 0; j < 4; j++) if (p[po + l3 + j] !== buf[off + l3 + j]) return false;
    for (let j = 6; j < 40; j++) if (p[po + l3 + j] !== buf[off + l3 + j]) return false;
  }
  for (let j = 0; j < hdr - l4; j++) {
    if (j >= 4 && j < 8) continue; // sequence
    if (j === 13 || j === 16 || j === 17) continue; // flags, checksum
    if (p[po + l4 + j] !== buf[off + l4 + j]) return false;
  }
  const pseq = ((p[po + l4 + 4] << 24) | (p[po + l4 + 5] << 16) | (p[po + l4 + 6] << 8) |
    p[po + l4 + 7]) >>> 0;
  const seq = ((buf[off + l4 + 4] << 24) | (buf[off + l4 + 5] << 16) | (buf[off + l4 + 6] << 8) |
    buf[off + l4 + 7]) >>> 0;
  if (((pseq + pn) >>> 0) !== seq) return false;
  // Merge: payload, lengths, flags; the checksum is left partial for the receiver.
  for (let j = 0; j < n; j++) p[pEnd + j] = buf[pay + j];
  const ipLen = pEnd + n - po - l3;
  if (v4) {
    p[po + l3 + 2] = ipLen >>> 8;
    p[po + l3 + 3] = ipLen & 0xff;
    p[po + l3 + 10] = 0;
    p[po + l3 + 11] = 0;
    const c = ~sum(p, po + l3, po + l3 + 20, 0) & 0xffff;
    p[po + l3 + 10] = c >>> 8;
    p[po + l3 + 11] = c & 0xff;
  } else {
    p[po + l3 + 4] = (ipLen - 40) >>> 8;
    p[po + l3 + 5] = (ipLen - 40) & 0xff;
  }
  p[po + l4 + 13] = f;
  q.lens[k] = pEnd + n - po;
  markGso(p, po, v, vo, hdr, mss);
  return true;
}

/**
 * Makes the plain Ethernet/IP/TCP frame at `b[off]` (headers `hdr` bytes, IP lengths already
 * final) a GSO frame of `mss`: the TCP checksum left partial (pseudo-header sum) and the
 * virtio-net header at `v[vo]` saying so.
 */
function markGso(b: Uint8Array, off: number, v: Uint8Array, vo: number, hdr: number, mss: number) {
  const l3 = off + 14, v4 = b[off + 12] === 0x08, l4 = l3 + (v4 ? 20 : 40);
  const tcpLen = ipEnd(b, l3) - l4;
  const ps = v4 ? sum(b, l3 + 12, l3 + 20, 6 + tcpLen) : sum(b, l3 + 8, l3 + 40, 6 + tcpLen);
  b[l4 + 16] = ps >>> 8;
  b[l4 + 17] = ps & 0xff;
  const vh = VH.reset(v, vo);
  vh.flags = VNET_F_NEEDS_CSUM;
  vh.gsoType = v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
  vh.hdrLen = hdr;
  vh.gsoSize = mss;
  vh.csumStart = l4 - off;
  vh.csumOffset = TCP_CHECKSUM;
}

/**
 * Queues the large TCP segment at `buf[off]` (from a Geneve packet carrying the Oxide MSS
 * option) for `tx`'s offloading link as one GSO frame of `mss`, appended to the train queued
 * before it when it continues it. False when it is no plain TCP frame (the caller splits it).
 */
export function queueGso(
  tx: TxQueue,
  rx: FrameBatch,
  i: number,
  off: number,
  len: number,
  mss: number,
): boolean {
  const buf = rx.bufs[i], pay = tcpHeaders(buf, off, len);
  if (pay < 0 || tx.batch.vnet === null) return false;
  if (coalesce(tx, buf, off, len, mss)) return true;
  tx.push(rx, i, off, len);
  const q = tx.batch, k = q.count - 1;
  markGso(q.bufs[k], off, q.vnet!, k * VNET_HDR_LEN, pay - off, mss);
  return true;
}

/** One's complement sum of `b[from, to)` onto `acc`, folded to 16 bits. */
function sum(b: Uint8Array, from: number, to: number, acc: number): number {
  let s = acc;
  for (let i = from; i < to; i += 2) s += (b[i] << 8) | b[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
