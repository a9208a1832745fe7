// ICMP/ICMPv6 errors (destination unreachable, time exceeded, packet too big, parameter
// problem) for NATed flows. The error quotes the packet as it left the sled, i.e. from the
// external address; to make sense to the guest the quoted source (address and port) must be
// restored to the guest's, and every checksum involved fixed. Upstream OPTE leaves SNAT
// errors untranslated (opte#272); we translate them all.

import type { FlowId } from "../packet/flow.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import {
  csumAdjustBytes,
  fillIpv4HeaderChecksum,
  finish,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  pseudoSumV6,
  sum16,
} from "../packet/checksum.ts";

/** True when `lv` is an ICMP (v4: 3, 11, 12) or ICMPv6 (1–4) error message. */
export function isIcmpError(lv: HeaderLevel): boolean {
  if (lv.l4 < 0) return false;
  if (lv.proto === PROTO_ICMP) return lv.icmpType === 3 || lv.icmpType === 11 || lv.icmpType === 12;
  if (lv.proto === PROTO_ICMPV6) return lv.icmpType >= 1 && lv.icmpType <= 4;
  return false;
}

/** Where the quoted packet's fields sit; -1 when absent or truncated. */
export class Quoted {
  l3 = -1;
  af = 0;
  proto = -1;
  l4 = -1;
  /** Offset of the quoted source port (or ICMP echo id), -1 when not quoted. */
  srcPortAt = -1;
  /** Offset of the quoted destination port (the echo id again for ICMP echo), -1 when absent. */
  dstPortAt = -1;
  /** Offset of the quoted L4 checksum when it lies within the quote, else -1. */
  csumAt = -1;
}

/** Locates the packet quoted by the error at `lv`; false when it is too short to use. */
export function findQuoted(buf: Uint8Array, lv: HeaderLevel, q: Quoted): boolean {
  const at = lv.l4 + 8, end = lv.ipEnd;
  q.l3 =
    q.l4 =
    q.srcPortAt =
    q.dstPortAt =
    q.csumAt =
    q.proto =
      -1;
  if (lv.proto === PROTO_ICMP) {
    if (end - at < 20 || buf[at] >> 4 !== 4) return false;
    const ihl = (buf[at] & 0x0f) * 4;
    if (ihl < 20 || end - at < ihl) return false;
    q.af = 4;
    q.proto = buf[at + 9];
    q.l4 = at + ihl;
  } else {
    if (end - at < 40 || buf[at] >> 4 !== 6) return false;
    q.af = 6;
    q.proto = buf[at + 6];
    q.l4 = at + 40;
  }
  q.l3 = at;
  const l4 = q.l4, room = end - l4;
  if ((q.proto === PROTO_TCP || q.proto === PROTO_UDP) && room >= 4) {
    q.srcPortAt = l4;
    q.dstPortAt = l4 + 2;
    const c = l4 + (q.proto === PROTO_TCP ? 16 : 6);
    if (c + 2 <= end) q.csumAt = c;
  } else if ((q.proto === PROTO_ICMP || q.proto === PROTO_ICMPV6) && room >= 8) {
    const t = buf[l4];
    if (t === 8 || t === 0 || t === 128 || t === 129) {
      q.srcPortAt = q.dstPortAt = l4 + 4;
      q.csumAt = l4 + 2;
    }
  }
  return true;
}

/** Fills `out` with the quoted packet's flow (as sent: quoted src → quoted dst). */
export function quotedFlow(buf: Uint8Array, q: Quoted, out: FlowId): void {
  const sp = q.srcPortAt >= 0 ? (buf[q.srcPortAt] << 8) | buf[q.srcPortAt + 1] : 0;
  let dp = sp;
  if (q.srcPortAt >= 0 && q.srcPortAt === q.l4) dp = (buf[q.l4 + 2] << 8) | buf[q.l4 + 3];
  if (q.af === 4) out.setV4(q.proto, buf, q.l3 + 12, q.l3 + 16, sp, dp);
  else out.setV6(q.proto, buf, q.l3 + 8, q.l3 + 24, sp, dp);
}

const portBytes = new Uint8Array(2);

/**
 * Rewrites the quoted source (or, with `dst`, destination) address to `addr` and its port or
 * echo id to `port`, fixing the quoted IPv4 header checksum, the quoted L4 checksum
 * (incrementally, when it lies within the quote) and finally the error's own checksum. For
 * ICMPv6 the error's pseudo-header uses the outer addresses as they are now; a later rewrite
 * of those must patch the checksum (the engine's transforms do).
 */
export function rewriteQuoted(
  buf: Uint8Array,
  lv: HeaderLevel,
  q: Quoted,
  dst: boolean,
  addr: Uint8Array,
  port: number,
): void {
  const addrAt = q.l3 + (q.af === 4 ? (dst ? 16 : 12) : (dst ? 24 : 8));
  const n = q.af === 4 ? 4 : 16;
  const portAt = dst ? q.dstPortAt : q.srcPortAt;
  const pseudo = q.proto === PROTO_TCP || q.proto === PROTO_UDP || q.proto === PROTO_ICMPV6;
  if (q.csumAt >= 0) {
    let c = (buf[q.csumAt] << 8) | buf[q.csumAt + 1];
    if (!(q.proto === PROTO_UDP && c === 0)) {
      if (pseudo) c = csumAdjustBytes(c, buf, addrAt, addr, 0, n);
      if (portAt >= 0) {
        portBytes[0] = port >>> 8;
        portBytes[1] = port;
        c = csumAdjustBytes(c, buf, portAt, portBytes, 0, 2);
      }
      if (q.proto === PROTO_UDP && c === 0) c = 0xffff;
      buf[q.csumAt] = c >>> 8;
      buf[q.csumAt + 1] = c;
    }
  }
  buf.set(addr.subarray(0, n), addrAt);
  if (portAt >= 0) {
    buf[portAt] = port >>> 8;
    buf[portAt + 1] = port;
  }
  if (q.af === 4) fillIpv4HeaderChecksum(buf, q.l3);
  fillErrorChecksum(buf, lv);
}

/** `rewriteQuoted` of the quoted source: what an inbound error about a NATed flow needs. */
export function restoreQuoted(
  buf: Uint8Array,
  lv: HeaderLevel,
  q: Quoted,
  addr: Uint8Array,
  port: number,
): void {
  rewriteQuoted(buf, lv, q, false, addr, port);
}

/** Recomputes the ICMP/ICMPv6 checksum of the error message at `lv`. */
export function fillErrorChecksum(buf: Uint8Array, lv: HeaderLevel): void {
  const l4 = lv.l4, len = lv.ipEnd - l4;
  buf[l4 + 2] = 0;
  buf[l4 + 3] = 0;
  const init = lv.proto === PROTO_ICMPV6 ? pseudoSumV6(buf, lv.l3, PROTO_ICMPV6, len) : 0;
  const c = finish(sum16(buf, l4, len, init));
  buf[l4 + 2] = c >>> 8;
  buf[l4 + 3] = c;
}
