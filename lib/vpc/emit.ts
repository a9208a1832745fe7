// Frame assembly for generated packets (hairpin replies, ICMP errors): Ethernet + IP around an
// L4 body, with every length and checksum filled. Slow path only: one fresh buffer per reply.

import {
  emitEthernet,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
} from "../packet/ethernet.ts";
import { setU16 } from "../packet/bytes.ts";
import { emitIpv4, IPV4_HEADER_LEN } from "../packet/ipv4.ts";
import { emitIpv6, IPV6_HEADER_LEN } from "../packet/ipv6.ts";
import {
  fillIpv4HeaderChecksum,
  finish,
  l4ChecksumField,
  PROTO_ICMP,
  PROTO_UDP,
  pseudoSumV4,
  pseudoSumV6,
  sum16,
} from "../packet/checksum.ts";

/** Writes the L4 checksum of [l4, l4+len) whose IP header sits at `l3`. */
export function fillChecksumAt(
  buf: Uint8Array,
  af: number,
  l3: number,
  l4: number,
  len: number,
  proto: number,
): void {
  const field = l4ChecksumField(proto);
  if (field < 0) return;
  setU16(buf, l4 + field, 0);
  let s = proto === PROTO_ICMP
    ? 0
    : af === 4
    ? pseudoSumV4(buf, l3, proto, len)
    : pseudoSumV6(buf, l3, proto, len);
  s = sum16(buf, l4, len, s);
  let c = finish(s);
  if (c === 0 && proto === PROTO_UDP) c = 0xffff;
  setU16(buf, l4 + field, c);
}

/**
 * An Ethernet/IP frame around `l4` (its checksum field is filled here): IPv4 when `src` has 4
 * bytes, IPv6 when 16; `hops` is the TTL or hop limit.
 */
export function ipFrame(
  srcMac: Uint8Array,
  dstMac: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  l4: Uint8Array,
  hops = 64,
): Uint8Array {
  const v4 = src.length === 4, l3 = ETHERNET_HEADER_LEN;
  const at = l3 + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN), payloadLen = l4.length;
  const out = new Uint8Array(at + payloadLen);
  emitEthernet(
    { src: srcMac, dst: dstMac, etherType: v4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6 },
    out,
    0,
  );
  if (v4) {
    emitIpv4({ src, dst, proto, payloadLen, ttl: hops }, out, l3);
    fillIpv4HeaderChecksum(out, l3);
  } else emitIpv6({ src, dst, nextHeader: proto, payloadLen, hopLimit: hops }, out, l3);
  out.set(l4, at);
  fillChecksumAt(out, v4 ? 4 : 6, l3, at, payloadLen, proto);
  return out;
}

/** A UDP header (checksum left for ipFrame) followed by `payload`. */
export function udpSegment(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[0] = srcPort >>> 8;
  out[1] = srcPort;
  out[2] = dstPort >>> 8;
  out[3] = dstPort;
  out[4] = out.length >>> 8;
  out[5] = out.length;
  out.set(payload, 8);
  return out;
}
