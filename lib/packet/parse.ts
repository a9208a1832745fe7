// One-pass frame parser for the datapath: fills a reused PacketMeta with header offsets and
// match keys, outer level and (through Geneve) inner level. Every length is checked once
// here; nothing is allocated unless a ParseError is returned.

import { type ParseError, parseError } from "./error.ts";
import { u16 } from "./bytes.ts";
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, type HeaderLevel, type PacketMeta } from "./meta.ts";
import type { FlowId } from "./flow.ts";
import { checkArp } from "./arp.ts";
import {
  ETH_ETHERTYPE,
  ETH_INNER_ETHERTYPE,
  ETH_TCI,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  VLAN_TAG_LEN,
} from "./ethernet.ts";
import {
  checkIpv4,
  IPV4_DST,
  IPV4_FLAGS_FRAG,
  IPV4_PROTO,
  IPV4_SRC,
  IPV4_TOTAL_LEN,
} from "./ipv4.ts";
import {
  checkIpv6,
  IPV6_DST,
  IPV6_HEADER_LEN,
  IPV6_PAYLOAD_LEN,
  IPV6_SRC,
  walkIpv6Ext,
} from "./ipv6.ts";
import { checkTcp, TCP_DATA_OFF, TCP_FLAGS } from "./tcp.ts";
import { checkUdp, UDP_HEADER_LEN, UDP_LENGTH } from "./udp.ts";
import { L4_DST_PORT, L4_SRC_PORT } from "./view.ts";
import { ICMP_CODE, ICMP_IDENT, ICMP_TYPE } from "./icmp_header.ts";
import { ICMP_HEADER_LEN, isIcmpv4Echo } from "./icmpv4.ts";
import { icmpv6HeaderLen, isIcmpv6Echo, isNdp } from "./icmpv6.ts";
import { checkNdpOptions } from "./ndp.ts";
import { checkGeneve, GENEVE_HEADER_LEN, GENEVE_PORT, scanGeneve } from "./geneve.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "./checksum.ts";

/**
 * Parses the frame at [start, start + len) of `buf` into `meta` (reset first). Returns null on
 * success or the first ParseError; never throws and never reads outside the frame. A UDP
 * datagram to port 6081 is parsed as Geneve and its payload into `meta.inner`.
 * Frames that are not IP (ARP, unknown EtherTypes) parse successfully with `ipVersion` 0.
 * Pass `geneve` false for frames from a guest: its own UDP to port 6081 is not a tunnel.
 */
export function parseFrame(
  buf: Uint8Array,
  start: number,
  len: number,
  meta: PacketMeta,
  geneve = true,
): ParseError | null {
  meta.reset();
  meta.start = start;
  meta.len = len;
  if (start < 0 || len < 0) return parseError("malformed", "frame", start);
  const end = Math.min(start + len, buf.length);
  const err = parseEthernetLevel(buf, start, end, meta.outer);
  if (err !== null) return err;
  const o = meta.outer;
  if (o.proto !== PROTO_UDP || o.l4 < 0 || o.dstPort !== GENEVE_PORT || !geneve) return null;
  // Reassembly is not ours to do; the underlay MTU keeps tunnel packets whole.
  if (o.fragment !== FRAG_NONE) return parseError("unsupported", "geneve.fragment", o.l4);
  const gOff = o.payload, gEnd = o.l4 + u16(buf, o.l4 + UDP_LENGTH);
  const gErr = checkGeneve(buf, gOff, gEnd);
  if (gErr !== null) return gErr;
  const sErr = scanGeneve(buf, gOff, meta);
  if (sErr !== null) return sErr;
  meta.encap = true;
  return parseEthernetLevel(buf, gOff + GENEVE_HEADER_LEN + meta.geneveOptLen, gEnd, meta.inner);
}

/** Parses Ethernet, then IP/ARP and L4, from `off` up to `end` into `level`. */
export function parseEthernetLevel(
  buf: Uint8Array,
  off: number,
  end: number,
  level: HeaderLevel,
): ParseError | null {
  if (end - off < ETHERNET_HEADER_LEN) return parseError("truncated", "ethernet", off);
  level.ether = off;
  let et = u16(buf, off + ETH_ETHERTYPE);
  let l3 = off + ETHERNET_HEADER_LEN;
  if (et === ETHERTYPE_VLAN) {
    if (end - off < ETHERNET_HEADER_LEN + VLAN_TAG_LEN) {
      return parseError("truncated", "vlan", off + ETH_ETHERTYPE);
    }
    level.vlan = u16(buf, off + ETH_TCI) & 0x0fff;
    et = u16(buf, off + ETH_INNER_ETHERTYPE);
    if (et === ETHERTYPE_VLAN) return parseError("unsupported", "vlan", off + ETH_INNER_ETHERTYPE);
    l3 += VLAN_TAG_LEN;
  }
  level.etherType = et;
  // The EtherType, not the version nibble, picks the parser: a mismatch is malformed.
  if (et === ETHERTYPE_IPV4) return parseIpv4Level(buf, l3, end, level);
  if (et === ETHERTYPE_IPV6) return parseIpv6Level(buf, l3, end, level);
  if (et === ETHERTYPE_ARP) {
    const e = checkArp(buf, l3, end);
    if (e !== null) return e;
    level.l3 = l3;
  }
  return null;
}

/** Parses a strict IPv4 datagram and its L4 header at `off` into `level`. */
function parseIpv4Level(
  buf: Uint8Array,
  off: number,
  end: number,
  level: HeaderLevel,
): ParseError | null {
  const e = checkIpv4(buf, off, end);
  if (e !== null) return e;
  fillIpv4Level(buf, off, off + u16(buf, off + IPV4_TOTAL_LEN), level);
  return level.fragment === FRAG_LATER ? null : parseL4(buf, off + (buf[off] & 0x0f) * 4, level);
}

/** Records a checked IPv4 header's fields; the datagram ends at `ipEnd`. */
function fillIpv4Level(buf: Uint8Array, off: number, ipEnd: number, level: HeaderLevel): void {
  level.l3 = off;
  level.ipVersion = 4;
  level.ipEnd = ipEnd;
  level.proto = buf[off + IPV4_PROTO];
  const ff = u16(buf, off + IPV4_FLAGS_FRAG);
  level.fragment = (ff & 0x1fff) !== 0 ? FRAG_LATER : (ff & 0x2000) ? FRAG_FIRST : FRAG_NONE;
}

/** Parses a strict IPv6 datagram, its extension headers and L4 header at `off`. */
function parseIpv6Level(
  buf: Uint8Array,
  off: number,
  end: number,
  level: HeaderLevel,
): ParseError | null {
  const e = checkIpv6(buf, off, end);
  if (e !== null) return e;
  level.l3 = off;
  level.ipVersion = 6;
  level.ipEnd = off + IPV6_HEADER_LEN + u16(buf, off + IPV6_PAYLOAD_LEN);
  const r = walkIpv6Ext(buf, off, level.ipEnd, level);
  if (typeof r !== "number") return r;
  return r < 0 ? null : parseL4(buf, r, level);
}

/**
 * Parses an IP datagram (version from its first nibble) and its L4 header at `off` into a
 * reset `level`. With `embedded` (the copy of a datagram inside an ICMP error) the datagram
 * may be cut short: its length field is trusted only up to `end`, and L4 needs just 8 bytes.
 */
export function parseIpLevel(
  buf: Uint8Array,
  off: number,
  end: number,
  level: HeaderLevel,
  embedded: boolean,
): ParseError | null {
  if (end - off < 1) return parseError("truncated", "ip", off);
  const version = buf[off] >>> 4;
  if (!embedded) {
    if (version === 4) return parseIpv4Level(buf, off, end, level);
    if (version === 6) return parseIpv6Level(buf, off, end, level);
    return parseError("malformed", "ip.version", off);
  }
  let l4: number;
  if (version === 4) {
    const e = checkIpv4(buf, off, end);
    if (e !== null && !(e.kind === "truncated" && e.at === "ipv4.length")) return e;
    fillIpv4Level(buf, off, Math.min(off + u16(buf, off + IPV4_TOTAL_LEN), end), level);
    if (level.fragment === FRAG_LATER) return null;
    l4 = off + (buf[off] & 0x0f) * 4;
  } else if (version === 6) {
    const e = checkIpv6(buf, off, end);
    if (e !== null && !(e.kind === "truncated" && e.at === "ipv6.length")) return e;
    level.l3 = off;
    level.ipVersion = 6;
    level.ipEnd = Math.min(off + IPV6_HEADER_LEN + u16(buf, off + IPV6_PAYLOAD_LEN), end);
    const r = walkIpv6Ext(buf, off, level.ipEnd, level);
    if (typeof r !== "number") return r;
    if (r < 0) return null;
    l4 = r;
  } else {
    return parseError("malformed", "ip.version", off);
  }
  return parseEmbeddedL4(buf, l4, level);
}

/** Parses the L4 header at `l4` within the datagram ending at `level.ipEnd`. */
function parseL4(buf: Uint8Array, l4: number, level: HeaderLevel): ParseError | null {
  const end = level.ipEnd;
  let e: ParseError | null;
  switch (level.proto) {
    case PROTO_TCP:
      e = checkTcp(buf, l4, end);
      if (e !== null) return e;
      level.srcPort = u16(buf, l4 + L4_SRC_PORT);
      level.dstPort = u16(buf, l4 + L4_DST_PORT);
      level.tcpFlags = buf[l4 + TCP_FLAGS];
      level.payload = l4 + (buf[l4 + TCP_DATA_OFF] >>> 4) * 4;
      break;
    case PROTO_UDP:
      if (level.fragment === FRAG_FIRST) {
        // The length field counts the whole datagram; this fragment holds only its start.
        if (end - l4 < UDP_HEADER_LEN) return parseError("truncated", "udp", l4);
        if (u16(buf, l4 + UDP_LENGTH) < UDP_HEADER_LEN) {
          return parseError("malformed", "udp.length", l4 + UDP_LENGTH);
        }
      } else {
        e = checkUdp(buf, l4, end);
        if (e !== null) return e;
      }
      level.srcPort = u16(buf, l4 + L4_SRC_PORT);
      level.dstPort = u16(buf, l4 + L4_DST_PORT);
      level.payload = l4 + UDP_HEADER_LEN;
      break;
    case PROTO_ICMP: {
      if (end - l4 < ICMP_HEADER_LEN) return parseError("truncated", "icmpv4", l4);
      const t = buf[l4 + ICMP_TYPE], c = buf[l4 + ICMP_CODE];
      level.icmpType = t;
      level.icmpCode = c;
      level.srcPort = level.dstPort = isIcmpv4Echo(t) ? u16(buf, l4 + ICMP_IDENT) : (t << 8) | c;
      level.payload = l4 + ICMP_HEADER_LEN;
      break;
    }
    case PROTO_ICMPV6: {
      if (end - l4 < 4) return parseError("truncated", "icmpv6", l4);
      const t = buf[l4 + ICMP_TYPE], c = buf[l4 + ICMP_CODE], hlen = icmpv6HeaderLen(t);
      if (end - l4 < hlen) return parseError("truncated", "icmpv6", l4);
      if (isNdp(t)) {
        e = checkNdpOptions(buf, l4 + hlen, end);
        if (e !== null) return e;
      }
      level.icmpType = t;
      level.icmpCode = c;
      level.srcPort = level.dstPort = isIcmpv6Echo(t) ? u16(buf, l4 + ICMP_IDENT) : (t << 8) | c;
      level.payload = l4 + hlen;
      break;
    }
    default:
      // An upper layer we do not parse (ESP, GRE, SCTP…): matched on protocol alone.
      return null;
  }
  level.l4 = l4;
  return null;
}

/** The L4 of a datagram quoted in an ICMP error: only the first 8 bytes are guaranteed. */
function parseEmbeddedL4(buf: Uint8Array, l4: number, level: HeaderLevel): ParseError | null {
  const p = level.proto;
  if (p !== PROTO_TCP && p !== PROTO_UDP && p !== PROTO_ICMP && p !== PROTO_ICMPV6) return null;
  if (level.ipEnd - l4 < 8) return parseError("truncated", "embedded-l4", l4);
  if (p === PROTO_TCP || p === PROTO_UDP) {
    level.srcPort = u16(buf, l4 + L4_SRC_PORT);
    level.dstPort = u16(buf, l4 + L4_DST_PORT);
    if (p === PROTO_TCP && level.ipEnd - l4 > TCP_FLAGS) level.tcpFlags = buf[l4 + TCP_FLAGS];
  } else {
    const t = buf[l4 + ICMP_TYPE], c = buf[l4 + ICMP_CODE];
    level.icmpType = t;
    level.icmpCode = c;
    const echo = p === PROTO_ICMP ? isIcmpv4Echo(t) : isIcmpv6Echo(t);
    level.srcPort = level.dstPort = echo ? u16(buf, l4 + ICMP_IDENT) : (t << 8) | c;
  }
  level.l4 = l4;
  level.payload = Math.min(l4 + 8, level.ipEnd);
  return null;
}

/**
 * Fills `out` with the flow id of a parsed level: protocol, addresses, ports (ICMP echo: the
 * identifier as both ports; other ICMP: `type << 8 | code` as both), read from `buf` so a
 * rewritten header yields its new flow. Returns false for a level without IP.
 */
export function flowOf(buf: Uint8Array, level: HeaderLevel, out: FlowId): boolean {
  const l3 = level.l3, l4 = level.l4, proto = level.proto;
  let sp = 0, dp = 0;
  if (l4 >= 0) {
    if (proto === PROTO_TCP || proto === PROTO_UDP) {
      sp = u16(buf, l4 + L4_SRC_PORT);
      dp = u16(buf, l4 + L4_DST_PORT);
    } else if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
      const t = buf[l4 + ICMP_TYPE];
      const echo = proto === PROTO_ICMP ? isIcmpv4Echo(t) : isIcmpv6Echo(t);
      sp = dp = echo ? u16(buf, l4 + ICMP_IDENT) : (t << 8) | buf[l4 + ICMP_CODE];
    }
  }
  if (level.ipVersion === 4) out.setV4(proto, buf, l3 + IPV4_SRC, l3 + IPV4_DST, sp, dp);
  else if (level.ipVersion === 6) out.setV6(proto, buf, l3 + IPV6_SRC, l3 + IPV6_DST, sp, dp);
  else return false;
  return true;
}
