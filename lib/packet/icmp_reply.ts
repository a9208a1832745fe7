// The frames a gateway answers with itself: NDP (NA, NS, RA), ICMPv6 echo replies and errors,
// and ICMPv4 "fragmentation needed". One set of writers for the switch (its ports and underlay
// links) and the VPC gateway's hairpins. Each fills a caller-owned buffer in place (a transmit
// slot) through the header Reprs and emitters, reusing its Reprs, so an answer allocates nothing.

import {
  emitEthernet,
  ETHERNET_HEADER_LEN,
  type EthernetRepr,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
} from "./ethernet.ts";
import { emitIpv6, IPV6_DST, IPV6_HEADER_LEN, IPV6_SRC, type Ipv6Repr } from "./ipv6.ts";
import { emitIpv4, IPV4_HEADER_LEN, type Ipv4Repr } from "./ipv4.ts";
import {
  emitNdp,
  NDP_NA_OVERRIDE,
  NDP_NA_ROUTER,
  NDP_NA_SOLICITED,
  type NdpOptionRepr,
  type NdpRepr,
} from "./ndp.ts";
import { ICMPV6_ECHO_REPLY } from "./icmpv6.ts";
import { ICMP_CHECKSUM, ICMP_CODE, ICMP_TYPE } from "./icmp_header.ts";
import { ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED } from "./icmpv4.ts";
import { copyBytes, setU16, setU32 } from "./bytes.ts";
import { finish, PROTO_ICMP, PROTO_ICMPV6, pseudoSumV6, sum16 } from "./checksum.ts";

/** IPv6's minimum MTU: an ICMPv6 error never makes a packet bigger than this. */
export const IPV6_MIN_MTU = 1280;
/** Hop limit of NDP messages (RFC 4861 §7.1: a receiver drops anything else). */
export const NDP_HOP_LIMIT = 255;
const ICMP_ERROR_HEADER_LEN = 8;

const NONE = new Uint8Array(16);
const ETH: EthernetRepr = { src: NONE, dst: NONE, etherType: ETHERTYPE_IPV6 };
const IP6: Ipv6Repr = {
  src: NONE,
  dst: NONE,
  nextHeader: PROTO_ICMPV6,
  payloadLen: 0,
  hopLimit: 64,
};
const IP4: Ipv4Repr = { src: NONE, dst: NONE, proto: PROTO_ICMP, payloadLen: 0, ttl: 64 };
const LL: NdpOptionRepr & { type: "sourceLinkAddr" | "targetLinkAddr" } = {
  type: "targetLinkAddr",
  mac: NONE,
};
const MTU: NdpOptionRepr & { type: "mtu" } = { type: "mtu", mtu: 0 };
const ECHO: FrameAddrs = {
  dstMac: NONE,
  srcMac: NONE,
  srcIp: new Uint8Array(16),
  dstIp: new Uint8Array(16),
};
const NA_OPTS = [LL], RA_OPTS: NdpOptionRepr[] = [LL, MTU];
const NA: NdpRepr & { kind: "na" } = { kind: "na", target: NONE, options: NA_OPTS };
const NS: NdpRepr & { kind: "ns" } = { kind: "ns", target: NONE, options: NA_OPTS };
const RA: NdpRepr & { kind: "ra" } = { kind: "ra", options: RA_OPTS };

/** The two ends of an answer: link-layer and IP addresses (callers reuse one object). */
export interface FrameAddrs {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
}

/** A reusable FrameAddrs (fill it per answer with frameAddrs). */
export function newFrameAddrs(): FrameAddrs {
  return { dstMac: NONE, srcMac: NONE, srcIp: NONE, dstIp: NONE };
}

/** Fills the reusable `a` with an answer's addresses and returns it. */
export function frameAddrs(
  a: FrameAddrs,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  dstIp: Uint8Array,
): FrameAddrs {
  a.dstMac = dstMac;
  a.srcMac = srcMac;
  a.srcIp = srcIp;
  a.dstIp = dstIp;
  return a;
}

/** Writes the Ethernet header of `a` at `o`; returns its length. */
function writeEthernet(b: Uint8Array, o: number, a: FrameAddrs, etherType: number): number {
  ETH.dst = a.dstMac;
  ETH.src = a.srcMac;
  ETH.etherType = etherType;
  return emitEthernet(ETH, b, o);
}

/** Writes Ethernet + IPv6 headers at `o`; returns the offset of the upper-layer header. */
export function writeIpv6Headers(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  payloadLen: number,
  hopLimit: number,
): number {
  const l3 = o + writeEthernet(b, o, a, ETHERTYPE_IPV6);
  IP6.src = a.srcIp;
  IP6.dst = a.dstIp;
  IP6.payloadLen = payloadLen;
  IP6.hopLimit = hopLimit;
  return l3 + emitIpv6(IP6, b, l3);
}

/** Computes and stores the ICMPv6 checksum of [l4, l4+len) under the IPv6 header at `l3`. */
export function fillIcmpv6Checksum(b: Uint8Array, l3: number, l4: number, len: number): void {
  setU16(b, l4 + ICMP_CHECKSUM, 0);
  setU16(b, l4 + ICMP_CHECKSUM, finish(sum16(b, l4, len, pseudoSumV6(b, l3, PROTO_ICMPV6, len))));
}

/** Fills the ICMPv6 checksum of the message at `l4` in the frame at `o`; returns the frame length. */
function finishIcmpv6(b: Uint8Array, o: number, l4: number, len: number): number {
  fillIcmpv6Checksum(b, o + ETHERNET_HEADER_LEN, l4, len);
  return ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + len;
}

/** Writes an NDP message `r` in an IPv6 frame at `o`; returns the frame length. */
function writeNdpFrame(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  r: NdpRepr,
  len: number,
): number {
  const l4 = writeIpv6Headers(b, o, a, len, NDP_HOP_LIMIT);
  emitNdp(r, b, l4);
  return finishIcmpv6(b, o, l4, len);
}

/**
 * A neighbour advertisement for `target` (router and override set; solicited unless answering
 * the unspecified address) with a target link-layer option `tlla`; returns its length.
 */
export function writeNeighborAdvert(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  target: Uint8Array,
  solicited: boolean,
  tlla: Uint8Array,
): number {
  NA.target = target;
  NA.router = true;
  NA.override = true;
  NA.solicited = solicited;
  LL.type = "targetLinkAddr";
  LL.mac = tlla;
  return writeNdpFrame(b, o, a, NA, 24 + 8);
}

/** A neighbour solicitation for `target` with a source link-layer option; returns its length. */
export function writeNeighborSolicit(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  target: Uint8Array,
  slla: Uint8Array,
): number {
  NS.target = target;
  LL.type = "sourceLinkAddr";
  LL.mac = slla;
  return writeNdpFrame(b, o, a, NS, 24 + 8);
}

/** What a router advertisement says besides the sender's link-layer address. */
export interface RouterAdvertParams {
  /** Seconds the sender is a default router. */
  lifetime: number;
  /** The segment MTU (option 5). */
  mtu: number;
  /** Hop limit hosts should use (0: unspecified). */
  curHopLimit: number;
  /** Addresses come from DHCPv6. */
  managed: boolean;
}

/** A router advertisement with the sender's link-layer address and the MTU; returns its length. */
export function writeRouterAdvert(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  p: RouterAdvertParams,
): number {
  RA.routerLifetime = p.lifetime;
  RA.curHopLimit = p.curHopLimit;
  RA.managed = p.managed;
  LL.type = "sourceLinkAddr";
  LL.mac = a.srcMac;
  MTU.mtu = p.mtu;
  return writeNdpFrame(b, o, a, RA, 16 + 8 + 8);
}

/** Bytes of the IPv6 frame answering the echo request whose ICMPv6 message is [reqL4, reqEnd). */
export function icmpv6EchoReplyLen(reqL4: number, reqEnd: number): number {
  return ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + reqEnd - reqL4;
}

/**
 * The echo reply to the ICMPv6 echo request at `reqL3` (message at [reqL4, reqEnd)) of `req`, a
 * different buffer: same identifier, sequence and data, addresses swapped. Returns its length.
 */
export function writeIcmpv6EchoReply(
  b: Uint8Array,
  o: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  req: Uint8Array,
  reqL3: number,
  reqL4: number,
  reqEnd: number,
): number {
  const len = reqEnd - reqL4, l3 = o + ETHERNET_HEADER_LEN;
  copyBytes(req, reqL3 + IPV6_DST, ECHO.srcIp, 0, 16); // the address asked becomes the source
  copyBytes(req, reqL3 + IPV6_SRC, ECHO.dstIp, 0, 16);
  copyBytes(req, reqL4, b, l3 + IPV6_HEADER_LEN, len);
  const l4 = writeIpv6Headers(
    b,
    o,
    frameAddrs(ECHO, dstMac, srcMac, ECHO.srcIp, ECHO.dstIp),
    len,
    64,
  );
  b[l4 + ICMP_TYPE] = ICMPV6_ECHO_REPLY;
  return finishIcmpv6(b, o, l4, len);
}

/**
 * An ICMPv6 error (`type`/`code`, 32-bit `param`: the MTU for packet-too-big) quoting as much
 * of the offending IPv6 packet at `origL3` (of `origLen` bytes) as keeps the error within
 * IPV6_MIN_MTU. Returns its length.
 */
export function writeIcmpv6Error(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  type: number,
  code: number,
  param: number,
  orig: Uint8Array,
  origL3: number,
  origLen: number,
): number {
  const quote = Math.min(origLen, IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMP_ERROR_HEADER_LEN);
  const len = ICMP_ERROR_HEADER_LEN + quote;
  // The quoted bytes may sit in the same buffer region we write to: copy them first.
  copyBytes(orig, origL3, b, o + ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + 8, quote);
  const l4 = writeIpv6Headers(b, o, a, len, 64);
  b[l4 + ICMP_TYPE] = type;
  b[l4 + ICMP_CODE] = code;
  setU32(b, l4 + 4, param);
  return finishIcmpv6(b, o, l4, len);
}

/**
 * An ICMPv4 destination-unreachable "fragmentation needed" (RFC 1191) with next-hop `mtu`,
 * quoting the offending IPv4 header and 8 bytes. Returns its length.
 */
export function writeFragNeeded(
  b: Uint8Array,
  o: number,
  a: FrameAddrs,
  mtu: number,
  orig: Uint8Array,
  origL3: number,
  origLen: number,
): number {
  const quote = Math.min(origLen, (orig[origL3] & 0x0f) * 4 + 8);
  const l3 = o + ETHERNET_HEADER_LEN, l4 = l3 + IPV4_HEADER_LEN;
  copyBytes(orig, origL3, b, l4 + ICMP_ERROR_HEADER_LEN, quote);
  writeEthernet(b, o, a, ETHERTYPE_IPV4);
  IP4.src = a.srcIp;
  IP4.dst = a.dstIp;
  IP4.payloadLen = ICMP_ERROR_HEADER_LEN + quote;
  emitIpv4(IP4, b, l3);
  b.fill(0, l4, l4 + ICMP_ERROR_HEADER_LEN);
  b[l4 + ICMP_TYPE] = ICMP_DEST_UNREACHABLE;
  b[l4 + ICMP_CODE] = ICMP_FRAG_NEEDED;
  setU16(b, l4 + 6, mtu);
  setU16(b, l4 + ICMP_CHECKSUM, finish(sum16(b, l4, ICMP_ERROR_HEADER_LEN + quote)));
  return ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + ICMP_ERROR_HEADER_LEN + quote;
}

export { NDP_NA_OVERRIDE, NDP_NA_ROUTER, NDP_NA_SOLICITED };
