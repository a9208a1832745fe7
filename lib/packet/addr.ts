// Addresses and prefixes: the one `Cidr` type and its parser, addresses as u32 words (the form
// every table keys on: IPv4 uses word 0 only, words 1..3 zero, matching FlowId's layout), and the
// IPv6 derived addresses (EUI-64 link-local, solicited-node group, multicast MAC). The `…Into`
// forms write into caller-owned buffers for the datapath; the others allocate (control plane).

import { ipToString, parseIp } from "./bytes.ts";

/** An IPv4 or IPv6 prefix: family, four address words (masked), prefix length. */
export interface Cidr {
  readonly af: 4 | 6;
  readonly words: Uint32Array;
  readonly len: number;
}

/** How `parseCidr` treats its input. */
export interface CidrOptions {
  /** Accept a bare address as a host prefix (/32 or /128). Default: a `/len` is required. */
  bare?: boolean;
  /** Clear host bits instead of rejecting the prefix (`10.0.0.1/24` is 10.0.0.0/24). */
  loose?: boolean;
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

/**
 * Parses `a.b.c.d/n` or `x::/n` (see `CidrOptions` for bare addresses and host bits); null when
 * it is not an address prefix.
 */
export function parseCidr(s: string, opts: CidrOptions = {}): Cidr | null {
  const slash = s.indexOf("/");
  if (slash < 0 && !opts.bare) return null;
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const af = ip.length === 4 ? 4 : 6, max = af === 4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const lenText = s.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(lenText)) return null;
    len = Number(lenText);
    if (len > max) return null;
  }
  const words = new Uint32Array(4);
  addrWordsInto(ip, words);
  for (let i = 0; i < 4; i++) {
    const masked = (words[i] & maskWord(len, i)) >>> 0;
    if (af === 4 && i > 0) continue;
    if (masked !== words[i] && !opts.loose) return null;
    words[i] = masked;
  }
  return { af, words, len };
}

/**
 * Parses an address with its prefix length as an interface carries it (`10.0.0.1/24`, or a bare
 * address as a host prefix): the address with host bits kept, and its prefix. Null when malformed.
 */
export function parseAddrPrefix(s: string): { addr: Uint8Array; cidr: Cidr } | null {
  const cidr = parseCidr(s, { bare: true, loose: true });
  const slash = s.indexOf("/");
  const addr = cidr && parseIp(slash < 0 ? s : s.slice(0, slash));
  return addr ? { addr, cidr: cidr! } : null;
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

/** Writes the modified EUI-64 link-local address (fe80::/64, RFC 4291 §2.5.1) of `mac`. */
export function eui64LinkLocalInto(mac: Uint8Array, out: Uint8Array, outOff = 0): Uint8Array {
  out.fill(0, outOff, outOff + 16);
  out[outOff] = 0xfe;
  out[outOff + 1] = 0x80;
  out[outOff + 8] = mac[0] ^ 0x02;
  out[outOff + 9] = mac[1];
  out[outOff + 10] = mac[2];
  out[outOff + 11] = 0xff;
  out[outOff + 12] = 0xfe;
  out[outOff + 13] = mac[3];
  out[outOff + 14] = mac[4];
  out[outOff + 15] = mac[5];
  return out;
}

/** The modified EUI-64 link-local address (fe80::/64) of a MAC. */
export function eui64LinkLocal(mac: Uint8Array): Uint8Array {
  return eui64LinkLocalInto(mac, new Uint8Array(16));
}

/** Writes the solicited-node group ff02::1:ffXX:XXXX of the 16 bytes at `src[sOff]` into `out`. */
export function solicitedNodeInto(src: Uint8Array, sOff: number, out: Uint8Array): Uint8Array {
  out.fill(0, 0, 16);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = src[sOff + 13];
  out[14] = src[sOff + 14];
  out[15] = src[sOff + 15];
  return out;
}

/** The solicited-node multicast group ff02::1:ffXX:XXXX of an IPv6 address. */
export function solicitedNode(ip: Uint8Array): Uint8Array {
  return solicitedNodeInto(ip, 0, new Uint8Array(16));
}

/** Writes the Ethernet multicast MAC 33:33:xx:xx:xx:xx of IPv6 group `ip` into `out`. */
export function ipv6MulticastMacInto(ip: Uint8Array, out: Uint8Array, ipOff = 0): Uint8Array {
  out[0] = 0x33;
  out[1] = 0x33;
  out[2] = ip[ipOff + 12];
  out[3] = ip[ipOff + 13];
  out[4] = ip[ipOff + 14];
  out[5] = ip[ipOff + 15];
  return out;
}

/** The Ethernet multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast group. */
export function ipv6MulticastMac(ip: Uint8Array): Uint8Array {
  return ipv6MulticastMacInto(ip, new Uint8Array(6));
}
