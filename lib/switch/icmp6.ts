// Frames the switch writes itself: NDP (NS, NA, RA) and ICMPv6 errors (packet too big, time
// exceeded), plus ICMPv4 "fragmentation needed". Each writer fills a caller-owned buffer in place
// (a transmit slot), so generating a reply allocates nothing.

import { setU16, setU32 } from "../packet/bytes.ts";
import { fillIpv4HeaderChecksum, finish, pseudoSumV6, sum16 } from "../packet/checksum.ts";

export const ICMP6_DST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
/** NA flags (first byte after the checksum). */
export const NA_ROUTER = 0x80, NA_SOLICITED = 0x40, NA_OVERRIDE = 0x20;
/** NDP option types. */
export const OPT_SLLA = 1, OPT_TLLA = 2, OPT_MTU = 5;
/** IPv6's minimum MTU: an ICMPv6 error never makes a packet bigger than this. */
export const IPV6_MIN_MTU = 1280;

const ETH = 14, IP6 = 40;

/** Copies `n` bytes without creating views. */
export function copyBytes(
  dst: Uint8Array,
  dOff: number,
  src: Uint8Array,
  sOff: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i];
}

/** Writes Ethernet + IPv6 headers at `o`; returns the offset of the upper-layer header. */
export function writeEthV6(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
  nextHeader: number,
  payloadLen: number,
  hopLimit: number,
): number {
  copyBytes(b, o, dstMac, 0, 6);
  copyBytes(b, o + 6, srcMac, 0, 6);
  b[o + 12] = 0x86;
  b[o + 13] = 0xdd;
  const l3 = o + ETH;
  setU32(b, l3, 0x60000000);
  setU16(b, l3 + 4, payloadLen);
  b[l3 + 6] = nextHeader;
  b[l3 + 7] = hopLimit;
  copyBytes(b, l3 + 8, srcIp, 0, 16);
  copyBytes(b, l3 + 24, dstIp, 0, 16);
  return l3 + IP6;
}

/** Computes and stores the ICMPv6 checksum of [l4, l4+len) under the IPv6 header at `l3`. */
export function fillIcmp6Checksum(b: Uint8Array, l3: number, l4: number, len: number): void {
  b[l4 + 2] = 0;
  b[l4 + 3] = 0;
  setU16(b, l4 + 2, finish(sum16(b, l4, len, pseudoSumV6(b, l3, 58, len))));
}

function linkLayerOption(b: Uint8Array, at: number, type: number, mac: Uint8Array): void {
  b[at] = type;
  b[at + 1] = 1;
  copyBytes(b, at + 2, mac, 0, 6);
}

/** A neighbour advertisement for `target` with a target link-layer option; returns its length. */
export function writeNeighborAdvert(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
  target: Uint8Array,
  flags: number,
  tlla: Uint8Array,
): number {
  const len = 32;
  const l4 = writeEthV6(b, o, dstMac, srcMac, srcIp, dstIp, 58, len, 255);
  b.fill(0, l4, l4 + 8);
  b[l4] = ND_NEIGHBOR_ADVERT;
  b[l4 + 4] = flags;
  copyBytes(b, l4 + 8, target, 0, 16);
  linkLayerOption(b, l4 + 24, OPT_TLLA, tlla);
  fillIcmp6Checksum(b, o + ETH, l4, len);
  return ETH + IP6 + len;
}

/** A neighbour solicitation for `target` with a source link-layer option; returns its length. */
export function writeNeighborSolicit(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
  target: Uint8Array,
  slla: Uint8Array,
): number {
  const len = 32;
  const l4 = writeEthV6(b, o, dstMac, srcMac, srcIp, dstIp, 58, len, 255);
  b.fill(0, l4, l4 + 8);
  b[l4] = ND_NEIGHBOR_SOLICIT;
  copyBytes(b, l4 + 8, target, 0, 16);
  linkLayerOption(b, l4 + 24, OPT_SLLA, slla);
  fillIcmp6Checksum(b, o + ETH, l4, len);
  return ETH + IP6 + len;
}

/**
 * A router advertisement naming the sender a default router for `lifetime` seconds, with its
 * link-layer address and the segment MTU; returns its length.
 */
export function writeRouterAdvert(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
  lifetime: number,
  mtu: number,
): number {
  const len = 16 + 8 + 8;
  const l4 = writeEthV6(b, o, dstMac, srcMac, srcIp, dstIp, 58, len, 255);
  b.fill(0, l4, l4 + len);
  b[l4] = ND_ROUTER_ADVERT;
  b[l4 + 4] = 64; // current hop limit for the zone's own packets
  setU16(b, l4 + 6, lifetime);
  linkLayerOption(b, l4 + 16, OPT_SLLA, srcMac);
  b[l4 + 24] = OPT_MTU;
  b[l4 + 25] = 1;
  setU32(b, l4 + 28, mtu);
  fillIcmp6Checksum(b, o + ETH, l4, len);
  return ETH + IP6 + len;
}

/**
 * An ICMPv6 error (`type`/`code`, 32-bit `param`: the MTU for packet-too-big) quoting as much
 * of the offending IPv6 packet at `origL3` (of `origLen` bytes) as keeps the error within
 * IPV6_MIN_MTU. Returns its length.
 */
export function writeIcmp6Error(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
  type: number,
  code: number,
  param: number,
  orig: Uint8Array,
  origL3: number,
  origLen: number,
): number {
  const quote = Math.min(origLen, IPV6_MIN_MTU - IP6 - 8);
  const len = 8 + quote;
  // The quoted bytes may sit in the same buffer region we write to: copy them first.
  if (b === orig) b.copyWithin(o + ETH + IP6 + 8, origL3, origL3 + quote);
  else copyBytes(b, o + ETH + IP6 + 8, orig, origL3, quote);
  const l4 = writeEthV6(b, o, dstMac, srcMac, srcIp, dstIp, 58, len, 64);
  b[l4] = type;
  b[l4 + 1] = code;
  setU32(b, l4 + 4, param);
  fillIcmp6Checksum(b, o + ETH, l4, len);
  return ETH + IP6 + len;
}

/**
 * The echo reply to the ICMPv6 echo request at `reqL3` of `req` (a different buffer): same
 * identifier, sequence and data, addresses swapped. Returns its length.
 */
export function writeEchoReply(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  req: Uint8Array,
  reqL3: number,
  reqEnd: number,
): number {
  const len = reqEnd - reqL3 - IP6;
  copyBytes(b, o + ETH + IP6, req, reqL3 + IP6, len);
  copyBytes(b, o + ETH + 8, req, reqL3 + 24, 16); // our address becomes the source
  copyBytes(b, o + ETH + 24, req, reqL3 + 8, 16);
  const l4 = writeEthV6(
    b,
    o,
    dstMac,
    srcMac,
    b.subarray(o + ETH + 8, o + ETH + 24),
    b.subarray(o + ETH + 24, o + ETH + 40),
    58,
    len,
    64,
  );
  b[l4] = ICMP6_ECHO_REPLY;
  fillIcmp6Checksum(b, o + ETH, l4, len);
  return ETH + IP6 + len;
}

/**
 * An ICMPv4 destination-unreachable "fragmentation needed" (RFC 1191) with next-hop `mtu`,
 * quoting the offending IPv4 header and 8 bytes. Returns its length.
 */
export function writeFragNeeded(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
  mtu: number,
  orig: Uint8Array,
  origL3: number,
  origLen: number,
): number {
  const quote = Math.min(origLen, (orig[origL3] & 0x0f) * 4 + 8);
  const l3 = o + ETH, l4 = l3 + 20;
  if (b === orig) b.copyWithin(l4 + 8, origL3, origL3 + quote);
  else copyBytes(b, l4 + 8, orig, origL3, quote);
  copyBytes(b, o, dstMac, 0, 6);
  copyBytes(b, o + 6, srcMac, 0, 6);
  b[o + 12] = 0x08;
  b[o + 13] = 0x00;
  b.fill(0, l3, l4 + 8);
  b[l3] = 0x45;
  setU16(b, l3 + 2, 20 + 8 + quote);
  b[l3 + 8] = 64;
  b[l3 + 9] = 1;
  copyBytes(b, l3 + 12, srcIp, 0, 4);
  copyBytes(b, l3 + 16, dstIp, 0, 4);
  fillIpv4HeaderChecksum(b, l3);
  b[l4] = 3;
  b[l4 + 1] = 4;
  setU16(b, l4 + 6, mtu);
  setU16(b, l4 + 2, finish(sum16(b, l4, 8 + quote)));
  return ETH + 20 + 8 + quote;
}
