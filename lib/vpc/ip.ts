// Addresses and prefixes as u32 words, the form every VPC table keys on. IPv4 uses word 0
// only (words 1..3 zero), matching FlowId's layout, so a flow's words index tables directly.

import { ipToString, parseIp } from "../packet/bytes.ts";

/** An IPv4 or IPv6 prefix: family, four address words (masked), prefix length. */
export interface Cidr {
  readonly af: 4 | 6;
  readonly words: Uint32Array;
  readonly len: number;
}

/** Fills `out[at..at+4]` with the address words of a 4- or 16-byte address. */
export function addrWordsInto(b: Uint8Array, out: Uint32Array, at = 0): void {
  if (b.length === 4) {
    out[at] = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = 0;
    return;
  }
  for (let i = 0; i < 4; i++) {
    const o = 4 * i;
    out[at + i] = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }
}

/** Reads an address at `off` of a frame into four words (IPv4 in word 0). */
export function frameAddrWords(
  buf: Uint8Array,
  off: number,
  af: number,
  out: Uint32Array,
  at = 0,
): void {
  const n = af === 4 ? 1 : 4;
  for (let i = 0; i < 4; i++) {
    if (i >= n) {
      out[at + i] = 0;
      continue;
    }
    const o = off + 4 * i;
    out[at + i] = ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
  }
}

/** Bytes of an address held in words (4 bytes for IPv4, 16 for IPv6). */
export function wordsToBytes(af: number, w: Uint32Array, at = 0): Uint8Array {
  const out = new Uint8Array(af === 4 ? 4 : 16);
  for (let i = 0; i < out.length / 4; i++) {
    const v = w[at + i];
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  return out;
}

/** Mask word `i` of a prefix of length `len`. */
export function maskWord(len: number, i: number): number {
  const bits = len - 32 * i;
  if (bits >= 32) return 0xffffffff;
  if (bits <= 0) return 0;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Parses `a.b.c.d/n` or `x::/n` (host bits must be zero unless `loose`); null when malformed. */
export function parseCidr(s: string, loose = false): Cidr | null {
  const slash = s.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1).trim();
  if (!ip || !/^\d{1,3}$/.test(lenText)) return null;
  const af = ip.length === 4 ? 4 : 6;
  const len = Number(lenText);
  if (len > (af === 4 ? 32 : 128)) return null;
  const words = new Uint32Array(4);
  addrWordsInto(ip, words);
  for (let i = 0; i < 4; i++) {
    const m = maskWord(af === 4 ? Math.min(len, 32) : len, i);
    const masked = (words[i] & m) >>> 0;
    if (af === 4 && i > 0) continue;
    if (masked !== words[i] && !loose) return null;
    words[i] = masked;
  }
  return { af, words, len };
}

/** True when the address words at `w[at..]` (same family) fall inside `c`. */
export function cidrContains(c: Cidr, af: number, w: Uint32Array, at = 0): boolean {
  if (c.af !== af) return false;
  for (let i = 0; i < 4; i++) {
    const m = maskWord(c.len, i);
    if (m === 0) return true;
    if (((w[at + i] & m) >>> 0) !== c.words[i]) return false;
  }
  return true;
}

/** `a.b.c.d/n` text of a prefix. */
export function cidrToString(c: Cidr): string {
  return `${ipToString(wordsToBytes(c.af, c.words))}/${c.len}`;
}

/** Parses an address into {af, words}; null when malformed. */
export function parseAddrWords(s: string): { af: 4 | 6; words: Uint32Array } | null {
  const ip = parseIp(s);
  if (!ip) return null;
  const words = new Uint32Array(4);
  addrWordsInto(ip, words);
  return { af: ip.length === 4 ? 4 : 6, words };
}

/** The modified EUI-64 link-local address (fe80::/64) of a MAC. */
export function linkLocalFromMac(mac: Uint8Array): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = mac[0] ^ 0x02;
  a[9] = mac[1];
  a[10] = mac[2];
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = mac[3];
  a[14] = mac[4];
  a[15] = mac[5];
  return a;
}

/** The solicited-node multicast group ff02::1:ffXX:XXXX of an IPv6 address. */
export function solicitedNode(ip: Uint8Array): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xff;
  a[1] = 0x02;
  a[11] = 0x01;
  a[12] = 0xff;
  a[13] = ip[13];
  a[14] = ip[14];
  a[15] = ip[15];
  return a;
}

/** The Ethernet multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast group. */
export function ipv6MulticastMac(ip: Uint8Array): Uint8Array {
  return Uint8Array.of(0x33, 0x33, ip[12], ip[13], ip[14], ip[15]);
}
