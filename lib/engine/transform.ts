// Header transformations: what a layer asks to change, applied directly on the slow path, and
// compiled once per UFT entry into a plan the fast path applies in place with precomputed
// checksum deltas. The engine knows Ethernet/IP/L4 only; what the pushed outer bytes mean
// (Geneve, VXLAN, …) is the caller's business.

import { FRAG_LATER, FRAG_NONE, HeaderLevel } from "../packet/meta.ts";
import {
  csumAdjustBytes,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  rewriteDstPort,
  rewriteIpAddr,
  rewriteSrcPort,
} from "../packet/checksum.ts";
import type { Packet } from "./packet.ts";
import { type Reason, reason } from "./reason.ts";
import { copyBytes, setU16, u16 } from "../packet/bytes.ts";
import {
  ETH_ETHERTYPE,
  ETH_TCI,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  VLAN_TAG_LEN,
} from "../packet/ethernet.ts";
import {
  IPV4_CHECKSUM,
  IPV4_DST,
  IPV4_HEADER_LEN,
  IPV4_PROTO,
  IPV4_SRC,
  IPV4_TOTAL_LEN,
} from "../packet/ipv4.ts";
import {
  IPV6_DST,
  IPV6_HEADER_LEN,
  IPV6_NEXT_HEADER,
  IPV6_PAYLOAD_LEN,
  IPV6_SRC,
  setIpv6FlowLabel,
} from "../packet/ipv6.ts";
import { UDP_CHECKSUM, UDP_HEADER_LEN, UDP_LENGTH } from "../packet/udp.ts";
import { TCP_CHECKSUM } from "../packet/tcp.ts";
import { L4_DST_PORT, L4_SRC_PORT } from "../packet/view.ts";

/**
 * The outer headers (outer Ethernet + outer IP + encap) as one unit: push prebuilt bytes, or pop.
 * A push may name per-flow tunnel entropy (RFC 8926 §3.3, RFC 6438) written over the pushed UDP
 * source port and IPv6 flow label, so one byte string serves every flow to a destination.
 */
export type OuterAction =
  | { op: "push"; bytes: Uint8Array; srcPort?: number; flowLabel?: number }
  | { op: "pop" };

/**
 * A header transformation, per slot. The inner slots name the client's frame (`meta.flow`:
 * the inner level when encapsulated). Absent slots are left alone. Pushed bytes are a complete
 * outer Ethernet + IPv4/IPv6 (+ UDP + encap) header; the engine patches IP/UDP length fields
 * (and a non-zero UDP checksum) per packet. Never mutate pushed bytes after handing them over
 * (compiled plans keep the array). Pop strips everything before the inner Ethernet.
 */
export interface HeaderTransform {
  /** Shown in traces. */
  name?: string;
  outer?: OuterAction;
  innerEther?: { src?: Uint8Array; dst?: Uint8Array };
  /** 4- or 16-byte addresses; they must match the packet's family. */
  innerIp?: { src?: Uint8Array; dst?: Uint8Array };
  /** TCP/UDP ports; for ICMP/ICMPv6 echo either one sets the echo identifier. */
  innerUlp?: { srcPort?: number; dstPort?: number };
  /**
   * A rewrite the slots cannot express (e.g. the header embedded in an ICMP error), run after the
   * inner slots and before outer push/pop. It must keep `pkt.meta` valid and fix the checksums it
   * touches. A UFT entry whose list has one replays the list instead of compiling it.
   */
  body?: BodyTransform;
}

/** A custom in-place rewrite of the client frame; returns the error's reason or null. */
export interface BodyTransform {
  name: string;
  apply(pkt: Packet): Reason | null;
}

/** Why a transform could not be applied to a packet (returned, counted as an error). */
export const ERR_NO_HEADROOM = reason("no headroom for encap");
export const ERR_POP_NO_ENCAP = reason("pop without encap");
export const ERR_DOUBLE_ENCAP = reason("push onto encapsulated packet");
export const ERR_FAMILY = reason("address family mismatch");
export const ERR_BAD_PUSH = reason("pushed bytes are not Ethernet/IP");

/** True when `lv` carries ports (TCP/UDP) or an echo identifier that `innerUlp` may rewrite. */
export function hasPorts(lv: HeaderLevel): boolean {
  if (lv.l4 < 0 || lv.fragment === FRAG_LATER) return false;
  const p = lv.proto;
  if (p === PROTO_TCP || p === PROTO_UDP) return true;
  if (p === PROTO_ICMP) return lv.icmpType === 8 || lv.icmpType === 0;
  if (p === PROTO_ICMPV6) return lv.icmpType === 128 || lv.icmpType === 129;
  return false;
}

/** Where the pushed bytes' headers sit, found once per pushed byte string. */
export class OuterTemplate {
  readonly outer: HeaderLevel;
  constructor(
    readonly bytes: Uint8Array,
    level: HeaderLevel,
    /** Offsets within `bytes` of the IPv4 / IPv6 / UDP header, -1 when absent. */
    readonly ip4At: number,
    readonly ip6At: number,
    readonly udpAt: number,
    /** True when the pushed UDP checksum is zero and stays zero (RFC 6935/6936 tunnels). */
    readonly udpZero: boolean,
  ) {
    this.outer = level;
  }
}

// Pushed byte strings are immutable once handed to the engine (plans keep a reference), so
// their parsed layout can be cached per array.
const templates = new WeakMap<Uint8Array, OuterTemplate>();

/** Reads the pushed headers' layout (cached per array); null when not Ethernet + IPv4/IPv6. */
export function outerTemplate(bytes: Uint8Array): OuterTemplate | null {
  const hit = templates.get(bytes);
  if (hit !== undefined) return hit;
  const t = parseTemplate(bytes);
  if (t !== null) templates.set(bytes, t);
  return t;
}

function parseTemplate(bytes: Uint8Array): OuterTemplate | null {
  if (bytes.length < ETHERNET_HEADER_LEN) return null;
  const lv = new HeaderLevel();
  lv.ether = 0;
  let at = ETH_ETHERTYPE;
  let et = u16(bytes, at);
  if (et === ETHERTYPE_VLAN) {
    if (bytes.length < ETHERNET_HEADER_LEN + VLAN_TAG_LEN) return null;
    lv.vlan = u16(bytes, ETH_TCI) & 0xfff;
    at += VLAN_TAG_LEN;
    et = u16(bytes, at);
  }
  lv.etherType = et;
  const l3 = at + 2;
  lv.l3 = l3;
  let ip4At = -1, ip6At = -1, l4 = -1;
  if (et === ETHERTYPE_IPV4) {
    if (bytes.length < l3 + IPV4_HEADER_LEN || bytes[l3] >> 4 !== 4) return null;
    ip4At = l3;
    lv.ipVersion = 4;
    lv.proto = bytes[l3 + IPV4_PROTO];
    l4 = l3 + (bytes[l3] & 0x0f) * 4;
  } else if (et === ETHERTYPE_IPV6) {
    if (bytes.length < l3 + IPV6_HEADER_LEN || bytes[l3] >> 4 !== 6) return null;
    ip6At = l3;
    lv.ipVersion = 6;
    lv.proto = bytes[l3 + IPV6_NEXT_HEADER];
    l4 = l3 + IPV6_HEADER_LEN;
  } else return null;
  lv.fragment = FRAG_NONE;
  let udpAt = -1, udpZero = true;
  if (lv.proto === PROTO_UDP && bytes.length >= l4 + UDP_HEADER_LEN) {
    udpAt = l4;
    lv.l4 = l4;
    lv.payload = l4 + UDP_HEADER_LEN;
    lv.srcPort = u16(bytes, l4 + L4_SRC_PORT);
    lv.dstPort = u16(bytes, l4 + L4_DST_PORT);
    udpZero = u16(bytes, l4 + UDP_CHECKSUM) === 0;
  }
  return new OuterTemplate(bytes, lv, ip4At, ip6At, udpAt, udpZero);
}

/**
 * Prepends the template before `pkt.off`, patches lengths (and the entropy: UDP source port and
 * IPv6 flow label, each when ≥ 0), and makes `meta` describe both levels.
 */
export function pushOuter(
  pkt: Packet,
  tpl: OuterTemplate,
  srcPort = -1,
  flowLabel = -1,
): Reason | null {
  const meta = pkt.meta;
  if (meta.encap) return ERR_DOUBLE_ENCAP;
  const n = tpl.bytes.length;
  const start = pkt.off - n;
  if (start < 0) return ERR_NO_HEADROOM;
  const buf = pkt.buf;
  buf.set(tpl.bytes, start);
  const total = pkt.len + n;
  if (tpl.ip4At >= 0) {
    const at = start + tpl.ip4At;
    setU16(buf, at + IPV4_TOTAL_LEN, total - tpl.ip4At);
    fillIpv4HeaderChecksum(buf, at);
  } else if (tpl.ip6At >= 0) {
    const at = start + tpl.ip6At;
    setU16(buf, at + IPV6_PAYLOAD_LEN, total - tpl.ip6At - IPV6_HEADER_LEN);
    if (flowLabel >= 0) setIpv6FlowLabel(buf, at, flowLabel);
  }
  if (tpl.udpAt >= 0) {
    setU16(buf, start + tpl.udpAt + UDP_LENGTH, total - tpl.udpAt);
    if (srcPort >= 0) setU16(buf, start + tpl.udpAt + L4_SRC_PORT, srcPort);
  }
  meta.inner.copyFrom(meta.outer);
  const o = meta.outer, t = tpl.outer;
  o.ether = start + t.ether;
  o.etherType = t.etherType;
  o.vlan = t.vlan;
  o.l3 = start + t.l3;
  o.ipVersion = t.ipVersion;
  o.ipEnd = start + total;
  o.proto = t.proto;
  o.fragment = FRAG_NONE;
  o.l4 = t.l4 < 0 ? -1 : start + t.l4;
  o.payload = t.payload < 0 ? -1 : start + t.payload;
  o.srcPort = srcPort >= 0 && tpl.udpAt >= 0 ? srcPort : t.srcPort;
  o.dstPort = t.dstPort;
  o.icmpType = -1;
  o.icmpCode = -1;
  o.tcpFlags = 0;
  meta.encap = true;
  meta.start = start;
  meta.len = total;
  pkt.off = start;
  pkt.len = total;
  if (tpl.udpAt >= 0 && !tpl.udpZero) {
    setU16(buf, start + tpl.udpAt + UDP_CHECKSUM, 0);
    fillL4Checksum(buf, o);
  }
  return null;
}

/** Strips the outer headers: the inner frame becomes the whole packet. */
export function popOuter(pkt: Packet): Reason | null {
  const meta = pkt.meta;
  if (!meta.encap || meta.inner.ether < meta.start) return ERR_POP_NO_ENCAP;
  const n = meta.inner.ether - meta.start;
  meta.outer.copyFrom(meta.inner);
  meta.inner.reset();
  meta.clearEncap();
  meta.start += n;
  meta.len -= n;
  pkt.off += n;
  pkt.len -= n;
  return null;
}

/** Applies one transform on the slow path (modify, then pop, then push); an error string or null. */
export function applyTransform(pkt: Packet, t: HeaderTransform): Reason | null {
  const buf = pkt.buf, lv = pkt.meta.flow;
  const e = t.innerEther;
  if (e && lv.ether >= 0) {
    if (e.src) buf.set(e.src, lv.ether + 6);
    if (e.dst) buf.set(e.dst, lv.ether);
  }
  const ip = t.innerIp;
  const partial = pkt.csumPartial && partialL4(lv);
  if (ip && lv.ipVersion !== 0) {
    const alen = lv.ipVersion === 4 ? 4 : 16;
    if ((ip.src && ip.src.length !== alen) || (ip.dst && ip.dst.length !== alen)) return ERR_FAMILY;
    if (partial) {
      if (ip.src) rewriteAddrPartial(buf, lv, false, ip.src);
      if (ip.dst) rewriteAddrPartial(buf, lv, true, ip.dst);
    } else {
      if (ip.src) rewriteIpAddr(buf, lv, false, ip.src, 0);
      if (ip.dst) rewriteIpAddr(buf, lv, true, ip.dst, 0);
    }
  }
  const u = t.innerUlp;
  if (u && hasPorts(lv)) {
    if (partial) {
      // Ports are outside the pseudo-header: the device's sum will cover the new bytes.
      if (u.srcPort !== undefined) setPort(buf, lv, L4_SRC_PORT, u.srcPort);
      if (u.dstPort !== undefined) setPort(buf, lv, L4_DST_PORT, u.dstPort);
    } else {
      if (u.srcPort !== undefined) rewriteSrcPort(buf, lv, u.srcPort);
      if (u.dstPort !== undefined) rewriteDstPort(buf, lv, u.dstPort);
    }
  }
  if (t.body) {
    const err = t.body.apply(pkt);
    if (err !== null) return err;
  }
  if (t.outer) {
    if (t.outer.op === "pop") {
      const err = popOuter(pkt);
      if (err) return err;
    } else {
      const tpl = outerTemplate(t.outer.bytes);
      if (!tpl) return ERR_BAD_PUSH;
      const err = pushOuter(pkt, tpl, t.outer.srcPort ?? -1, t.outer.flowLabel ?? -1);
      if (err) return err;
    }
  }
  return null;
}

/** True when `lv` has a TCP/UDP header whose checksum field can be a partial (pseudo) sum. */
export function partialL4(lv: HeaderLevel): boolean {
  return lv.l4 >= 0 && lv.fragment !== FRAG_LATER &&
    (lv.proto === PROTO_TCP || lv.proto === PROTO_UDP);
}

/** Adds Σ(~old + new) over `len` bytes to the uncomplemented sum stored at `at`. */
export function addToPartial(
  buf: Uint8Array,
  at: number,
  oldBuf: Uint8Array,
  oldOff: number,
  neu: Uint8Array,
  newOff: number,
  len: number,
): void {
  let s = u16(buf, at);
  for (let i = 0; i < len; i += 2) {
    s += (~u16(oldBuf, oldOff + i) & 0xffff) + u16(neu, newOff + i);
  }
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  setU16(buf, at, s);
}

/** Rewrites an address of a CHECKSUM_PARTIAL packet: IPv4 header checksum as usual, L4 field as a sum. */
function rewriteAddrPartial(buf: Uint8Array, lv: HeaderLevel, dst: boolean, addr: Uint8Array) {
  const v4 = lv.ipVersion === 4;
  const len = v4 ? 4 : 16;
  const at = lv.l3 + (v4 ? (dst ? IPV4_DST : IPV4_SRC) : (dst ? IPV6_DST : IPV6_SRC));
  addToPartial(
    buf,
    lv.l4 + (lv.proto === PROTO_TCP ? TCP_CHECKSUM : UDP_CHECKSUM),
    buf,
    at,
    addr,
    0,
    len,
  );
  if (v4) {
    const hc = u16(buf, lv.l3 + IPV4_CHECKSUM);
    setU16(buf, lv.l3 + IPV4_CHECKSUM, csumAdjustBytes(hc, buf, at, addr, 0, 4));
  }
  copyBytes(addr, 0, buf, at, len);
}

function setPort(buf: Uint8Array, lv: HeaderLevel, at: number, port: number): void {
  setU16(buf, lv.l4 + at, port);
  if (at === L4_SRC_PORT) lv.srcPort = port;
  else lv.dstPort = port;
}
