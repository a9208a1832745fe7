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
import { copyBytes, setU16, u16 } from "../packet/bytes.ts";
import { IPV4_DST, IPV4_HEADER_LEN, IPV4_PROTO, IPV4_SRC } from "../packet/ipv4.ts";
import { IPV6_DST, IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_SRC } from "../packet/ipv6.ts";
import {
  ICMP_CHECKSUM,
  ICMP_COMMON_HEADER_LEN,
  ICMP_IDENT,
  ICMP_TYPE,
} from "../packet/icmp_header.ts";
import { L4_DST_PORT, L4_SRC_PORT } from "../packet/view.ts";
import { TCP_CHECKSUM } from "../packet/tcp.ts";
import { UDP_CHECKSUM } from "../packet/udp.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_PARAM_PROBLEM,
  ICMP_TIME_EXCEEDED,
  isIcmpv4Echo,
} from "../packet/icmpv4.ts";
import { ICMPV6_DEST_UNREACHABLE, ICMPV6_PARAM_PROBLEM, isIcmpv6Echo } from "../packet/icmpv6.ts";

/** True when `lv` is an ICMP (v4: 3, 11, 12) or ICMPv6 (1–4) error message. */
export function isIcmpError(lv: HeaderLevel): boolean {
  if (lv.l4 < 0) return false;
  const t = lv.icmpType;
  if (lv.proto === PROTO_ICMP) {
    return t === ICMP_DEST_UNREACHABLE || t === ICMP_TIME_EXCEEDED || t === ICMP_PARAM_PROBLEM;
  }
  if (lv.proto === PROTO_ICMPV6) return t >= ICMPV6_DEST_UNREACHABLE && t <= ICMPV6_PARAM_PROBLEM;
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
  const at = lv.l4 + ICMP_COMMON_HEADER_LEN, end = lv.ipEnd;
  q.l3 =
    q.l4 =
    q.srcPortAt =
    q.dstPortAt =
    q.csumAt =
    q.proto =
      -1;
  if (lv.proto === PROTO_ICMP) {
    if (end - at < IPV4_HEADER_LEN || buf[at] >> 4 !== 4) return false;
    const ihl = (buf[at] & 0x0f) * 4;
    if (ihl < IPV4_HEADER_LEN || end - at < ihl) return false;
    q.af = 4;
    q.proto = buf[at + IPV4_PROTO];
    q.l4 = at + ihl;
  } else {
    if (end - at < IPV6_HEADER_LEN || buf[at] >> 4 !== 6) return false;
    q.af = 6;
    q.proto = buf[at + IPV6_NEXT_HEADER];
    q.l4 = at + IPV6_HEADER_LEN;
  }
  q.l3 = at;
  const l4 = q.l4, room = end - l4;
  if ((q.proto === PROTO_TCP || q.proto === PROTO_UDP) && room >= 4) {
    q.srcPortAt = l4 + L4_SRC_PORT;
    q.dstPortAt = l4 + L4_DST_PORT;
    const c = l4 + (q.proto === PROTO_TCP ? TCP_CHECKSUM : UDP_CHECKSUM);
    if (c + 2 <= end) q.csumAt = c;
  } else if ((q.proto === PROTO_ICMP || q.proto === PROTO_ICMPV6) && room >= 8) {
    const t = buf[l4 + ICMP_TYPE];
    // Either echo type under either protocol, as OPTE matches them.
    if (isIcmpv4Echo(t) || isIcmpv6Echo(t)) {
      q.srcPortAt = q.dstPortAt = l4 + ICMP_IDENT;
      q.csumAt = l4 + ICMP_CHECKSUM;
    }
  }
  return true;
}

/** Fills `out` with the quoted packet's flow (as sent: quoted src → quoted dst). */
export function quotedFlow(buf: Uint8Array, q: Quoted, out: FlowId): void {
  const sp = q.srcPortAt >= 0 ? u16(buf, q.srcPortAt) : 0;
  let dp = sp;
  if (q.srcPortAt >= 0 && q.srcPortAt === q.l4) dp = u16(buf, q.l4 + L4_DST_PORT);
  if (q.af === 4) out.setV4(q.proto, buf, q.l3 + IPV4_SRC, q.l3 + IPV4_DST, sp, dp);
  else out.setV6(q.proto, buf, q.l3 + IPV6_SRC, q.l3 + IPV6_DST, sp, dp);
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
  const addrAt = q.l3 + (q.af === 4 ? (dst ? IPV4_DST : IPV4_SRC) : (dst ? IPV6_DST : IPV6_SRC));
  const n = q.af === 4 ? 4 : 16;
  const portAt = dst ? q.dstPortAt : q.srcPortAt;
  const pseudo = q.proto === PROTO_TCP || q.proto === PROTO_UDP || q.proto === PROTO_ICMPV6;
  if (q.csumAt >= 0) {
    let c = u16(buf, q.csumAt);
    if (!(q.proto === PROTO_UDP && c === 0)) {
      if (pseudo) c = csumAdjustBytes(c, buf, addrAt, addr, 0, n);
      if (portAt >= 0) {
        setU16(portBytes, 0, port);
        c = csumAdjustBytes(c, buf, portAt, portBytes, 0, 2);
      }
      if (q.proto === PROTO_UDP && c === 0) c = 0xffff;
      setU16(buf, q.csumAt, c);
    }
  }
  copyBytes(addr, 0, buf, addrAt, n);
  if (portAt >= 0) setU16(buf, portAt, port);
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
  setU16(buf, l4 + ICMP_CHECKSUM, 0);
  const init = lv.proto === PROTO_ICMPV6 ? pseudoSumV6(buf, lv.l3, PROTO_ICMPV6, len) : 0;
  setU16(buf, l4 + ICMP_CHECKSUM, finish(sum16(buf, l4, len, init)));
}
