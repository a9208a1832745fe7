// Internet checksum (RFC 1071) and incremental update (RFC 1624), plus helpers that compute,
// verify and patch the checksums of one HeaderLevel. Sums are kept as plain numbers and folded
// late: a 64 KiB datagram sums to < 2^31, so nothing overflows before the fold.

import { FRAG_LATER, FRAG_NONE, type HeaderLevel } from "./meta.ts";

/** IP protocol numbers whose header carries a checksum we maintain. */
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

/** Adds `len` bytes at `off` as big-endian 16-bit words (odd tail padded with zero) to `acc`. */
export function sum16(buf: Uint8Array, off: number, len: number, acc = 0): number {
  const end = off + (len & ~1);
  let s = acc;
  let i = off;
  // Unrolled by 8 words: this loop is the whole cost of a full checksum.
  for (; i + 16 <= end; i += 16) {
    s += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]) +
      ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]) +
      ((buf[i + 8] << 8) | buf[i + 9]) + ((buf[i + 10] << 8) | buf[i + 11]) +
      ((buf[i + 12] << 8) | buf[i + 13]) + ((buf[i + 14] << 8) | buf[i + 15]);
  }
  for (; i < end; i += 2) s += (buf[i] << 8) | buf[i + 1];
  if (len & 1) s += buf[off + len - 1] << 8;
  return s;
}

/** Folds a running sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for a running sum: ones' complement of the folded sum. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** The Internet checksum of `len` bytes at `off`, starting from running sum `init`. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, init = 0): number {
  return finish(sum16(buf, off, len, init));
}

/** Sum of an IPv4 pseudo-header: addresses at `l3`+12, protocol and upper-layer length. */
export function pseudoSumV4(buf: Uint8Array, l3: number, proto: number, l4len: number): number {
  return sum16(buf, l3 + 12, 8, proto + l4len);
}

/** Sum of an IPv6 pseudo-header: addresses at `l3`+8, protocol and upper-layer length. */
export function pseudoSumV6(buf: Uint8Array, l3: number, proto: number, l4len: number): number {
  return sum16(buf, l3 + 8, 32, proto + (l4len >>> 16) + (l4len & 0xffff));
}

/** Sum of the IPv4 (`v4`) or IPv6 pseudo-header of the header at `l3`. */
export function pseudoSum(
  buf: Uint8Array,
  l3: number,
  v4: boolean,
  proto: number,
  l4len: number,
): number {
  return v4 ? pseudoSumV4(buf, l3, proto, l4len) : pseudoSumV6(buf, l3, proto, l4len);
}

/**
 * Sum of the TCP header at `l4` (up to its payload at `payload`, checksum field as it stands)
 * with the pseudo-header of the IP header at `l3` for `tcpLen` bytes: add the payload's sum to
 * check or fill the checksum.
 */
export function tcpHeaderSum(
  buf: Uint8Array,
  l3: number,
  l4: number,
  payload: number,
  tcpLen: number,
  v4: boolean,
): number {
  return sum16(buf, l4, payload - l4, pseudoSum(buf, l3, v4, PROTO_TCP, tcpLen));
}

/** Computes the IPv4 header checksum (field treated as zero) of the header at `l3`. */
export function ipv4HeaderChecksum(buf: Uint8Array, l3: number): number {
  const hlen = (buf[l3] & 0x0f) * 4;
  return finish(sum16(buf, l3 + 12, hlen - 12, sum16(buf, l3, 10)));
}

/** Writes the IPv4 header checksum of the header at `l3`. */
export function fillIpv4HeaderChecksum(buf: Uint8Array, l3: number): void {
  const c = ipv4HeaderChecksum(buf, l3);
  buf[l3 + 10] = c >>> 8;
  buf[l3 + 11] = c;
}

/** True when the IPv4 header at `l3` carries a correct checksum. */
export function verifyIpv4Header(buf: Uint8Array, l3: number): boolean {
  return fold(sum16(buf, l3, (buf[l3] & 0x0f) * 4)) === 0xffff;
}

/** Offset of the checksum field within the L4 header for `proto`, or -1 when it has none. */
export function l4ChecksumField(proto: number): number {
  switch (proto) {
    case PROTO_TCP:
      return 16;
    case PROTO_UDP:
      return 6;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      return 2;
    default:
      return -1;
  }
}

/** Running sum of `level`'s pseudo-header (0 for ICMPv4, which has none). */
function levelPseudoSum(buf: Uint8Array, level: HeaderLevel, l4len: number): number {
  if (level.proto === PROTO_ICMP) return 0;
  return pseudoSum(buf, level.l3, level.ipVersion === 4, level.proto, l4len);
}

/**
 * The correct L4 checksum for `level` (TCP, UDP, ICMP, ICMPv6), computed with the field treated
 * as zero over [l4, ipEnd); -1 when the level has no checksummed L4 header or is a fragment.
 * UDP's computed 0 is returned as 0xffff (0 on the wire means "no checksum").
 */
export function l4Checksum(buf: Uint8Array, level: HeaderLevel): number {
  const field = l4ChecksumField(level.proto);
  // A fragment's checksum covers bytes this frame does not hold.
  if (field < 0 || level.l4 < 0 || level.fragment !== FRAG_NONE) return -1;
  const l4 = level.l4, l4len = level.ipEnd - l4;
  let s = levelPseudoSum(buf, level, l4len);
  s = sum16(buf, l4, field, s);
  s = sum16(buf, l4 + field + 2, l4len - field - 2, s);
  const c = finish(s);
  return c === 0 && level.proto === PROTO_UDP ? 0xffff : c;
}

/** Writes `level`'s L4 checksum; returns false when it has none to write. */
export function fillL4Checksum(buf: Uint8Array, level: HeaderLevel): boolean {
  const c = l4Checksum(buf, level);
  if (c < 0) return false;
  const at = level.l4 + l4ChecksumField(level.proto);
  buf[at] = c >>> 8;
  buf[at + 1] = c;
  return true;
}

/**
 * True when `level`'s L4 checksum is correct. A zero UDP checksum is accepted over IPv4 and,
 * when `allowZeroUdp6` (tunnels, RFC 6935/6936), over IPv6. Levels without one, and fragments
 * (whose checksum covers the whole datagram), verify true.
 */
export function verifyL4Checksum(buf: Uint8Array, level: HeaderLevel, allowZeroUdp6 = false) {
  const field = l4ChecksumField(level.proto);
  if (field < 0 || level.l4 < 0 || level.fragment !== FRAG_NONE) return true;
  const l4 = level.l4, l4len = level.ipEnd - l4;
  if (level.proto === PROTO_UDP && buf[l4 + 6] === 0 && buf[l4 + 7] === 0) {
    return level.ipVersion === 4 || allowZeroUdp6;
  }
  return fold(sum16(buf, l4, l4len, levelPseudoSum(buf, level, l4len))) === 0xffff;
}

// ---- incremental update (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) ----

/** New checksum after one 16-bit word of the covered data changed from `old` to `neu`. */
export function csumAdjust16(hc: number, old: number, neu: number): number {
  let s = (~hc & 0xffff) + (~old & 0xffff) + (neu & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** New checksum after a 32-bit word of the covered data changed from `old` to `neu`. */
export function csumAdjust32(hc: number, old: number, neu: number): number {
  let s = (~hc & 0xffff) + (~(old >>> 16) & 0xffff) + (~old & 0xffff) + (neu >>> 16) +
    (neu & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** New checksum after `len` (even) bytes at `oldOff` of `oldBuf` become those at `newOff`. */
export function csumAdjustBytes(
  hc: number,
  oldBuf: Uint8Array,
  oldOff: number,
  newBuf: Uint8Array,
  newOff: number,
  len: number,
): number {
  let s = ~hc & 0xffff;
  for (let i = 0; i < len; i += 2) {
    s += (~((oldBuf[oldOff + i] << 8) | oldBuf[oldOff + i + 1]) & 0xffff) +
      ((newBuf[newOff + i] << 8) | newBuf[newOff + i + 1]);
  }
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Patches the checksum stored at `csumAt` by a running difference computed by RFC 1624.
 * For UDP (`udp`), a stored 0 means "no checksum" and stays 0, and a computed 0 becomes 0xffff.
 */
function patchChecksumAt(
  buf: Uint8Array,
  csumAt: number,
  oldBuf: Uint8Array,
  oldOff: number,
  newBuf: Uint8Array,
  newOff: number,
  len: number,
  udp: boolean,
): void {
  const hc = (buf[csumAt] << 8) | buf[csumAt + 1];
  if (udp && hc === 0) return;
  let c = csumAdjustBytes(hc, oldBuf, oldOff, newBuf, newOff, len);
  if (udp && c === 0) c = 0xffff;
  buf[csumAt] = c >>> 8;
  buf[csumAt + 1] = c;
}

/** True when `level`'s L4 checksum covers the pseudo-header (TCP, UDP, ICMPv6 with an L4). */
function l4CoversAddresses(level: HeaderLevel): boolean {
  return level.l4 >= 0 && level.fragment !== FRAG_LATER &&
    (level.proto === PROTO_TCP || level.proto === PROTO_UDP || level.proto === PROTO_ICMPV6);
}

/**
 * Rewrites `level`'s source (`dst` false) or destination address with the 4 or 16 bytes at
 * `addrOff` of `addr`, fixing the IPv4 header and L4 checksums incrementally.
 */
export function rewriteIpAddr(
  buf: Uint8Array,
  level: HeaderLevel,
  dst: boolean,
  addr: Uint8Array,
  addrOff: number,
): void {
  const v4 = level.ipVersion === 4;
  const len = v4 ? 4 : 16;
  const at = level.l3 + (v4 ? (dst ? 16 : 12) : (dst ? 24 : 8));
  if (l4CoversAddresses(level)) {
    patchChecksumAt(
      buf,
      level.l4 + l4ChecksumField(level.proto),
      buf,
      at,
      addr,
      addrOff,
      len,
      level.proto === PROTO_UDP,
    );
  }
  if (v4) patchChecksumAt(buf, level.l3 + 10, buf, at, addr, addrOff, 4, false);
  for (let i = 0; i < len; i++) buf[at + i] = addr[addrOff + i];
}

const scratch16 = new Uint8Array(2);

/**
 * Rewrites a 16-bit field at `fieldOff` inside `level`'s L4 header (a port, the ICMP echo id)
 * to `value`, fixing the L4 checksum incrementally. Updates the level's cached ports.
 */
export function rewriteL4Field16(
  buf: Uint8Array,
  level: HeaderLevel,
  fieldOff: number,
  value: number,
): void {
  const at = level.l4 + fieldOff;
  scratch16[0] = value >>> 8;
  scratch16[1] = value;
  const field = l4ChecksumField(level.proto);
  if (field >= 0) {
    patchChecksumAt(
      buf,
      level.l4 + field,
      buf,
      at,
      scratch16,
      0,
      2,
      level.proto === PROTO_UDP,
    );
  }
  buf[at] = scratch16[0];
  buf[at + 1] = scratch16[1];
}

/** Rewrites the TCP/UDP source port (or, for ICMP echo, the identifier) of `level`. */
export function rewriteSrcPort(buf: Uint8Array, level: HeaderLevel, port: number): void {
  const isIcmp = level.proto === PROTO_ICMP || level.proto === PROTO_ICMPV6;
  rewriteL4Field16(buf, level, isIcmp ? 4 : 0, port);
  level.srcPort = port;
  if (isIcmp) level.dstPort = port;
}

/** Rewrites the TCP/UDP destination port (or, for ICMP echo, the identifier) of `level`. */
export function rewriteDstPort(buf: Uint8Array, level: HeaderLevel, port: number): void {
  const isIcmp = level.proto === PROTO_ICMP || level.proto === PROTO_ICMPV6;
  rewriteL4Field16(buf, level, isIcmp ? 4 : 2, port);
  level.dstPort = port;
  if (isIcmp) level.srcPort = port;
}
