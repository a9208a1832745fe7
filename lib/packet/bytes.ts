// Big-endian field access and the text forms of MAC and IP addresses.
// Accessors assume the caller validated lengths (the parse step does it once).

import { slabMove } from "./slab.ts";

/** Reads a big-endian u16. */
export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Writes a big-endian u16. */
export function setU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Reads a big-endian u32 as an unsigned number. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Reads a big-endian 32-bit word as a signed int32 (stays a small integer: no boxing). */
export function i32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** Writes a big-endian u32. */
export function setU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Reads a big-endian u24 (Geneve VNI). */
export function u24(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}

/** Writes a big-endian u24. */
export function setU24(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 16;
  b[o + 1] = v >>> 8;
  b[o + 2] = v;
}

/** True when `len` bytes at `off` are equal in `a` and `b`. */
export function bytesEqual(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
  len: number,
): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** Copies above this many bytes try one memmove first (deno bench: the loop wins below). */
const MEMMOVE_MIN = 64;

/** Copies `len` bytes from `src[srcOff..]` to `dst[dstOff..]` without a subarray (hot path). */
export function copyBytes(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  len: number,
): void {
  if (len >= MEMMOVE_MIN && slabMove(src, srcOff, dst, dstOff, len)) return;
  if (src === dst && dstOff > srcOff) {
    for (let i = len - 1; i >= 0; i--) dst[dstOff + i] = src[srcOff + i];
  } else {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Formats 6 bytes as `aa:bb:cc:dd:ee:ff`. */
export function macToString(b: Uint8Array, o = 0): string {
  return `${HEX[b[o]]}:${HEX[b[o + 1]]}:${HEX[b[o + 2]]}:${HEX[b[o + 3]]}:${HEX[b[o + 4]]}:${
    HEX[b[o + 5]]
  }`;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated); null when it is not a MAC address. */
export function parseMac(s: string): Uint8Array | null {
  const m =
    /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i
      .exec(s.trim());
  if (!m) return null;
  return Uint8Array.from(m.slice(1, 7), (h) => parseInt(h, 16));
}

/** Formats 4 bytes as dotted quad. */
export function ipv4ToString(b: Uint8Array, o = 0): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Parses a dotted-quad IPv4 address; null when malformed. */
export function parseIpv4(s: string): Uint8Array | null {
  const parts = s.trim().split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Formats 16 bytes as an RFC 5952 IPv6 address (longest zero run compressed, lower case). */
export function ipv6ToString(b: Uint8Array, o = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(u16(b, o + 2 * i));
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/** Parses an IPv6 address (with `::` and an optional dotted-quad tail); null when malformed. */
export function parseIpv6(s: string): Uint8Array | null {
  s = s.trim();
  if (s.length === 0 || s.length > 45) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const words = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  if (!head || !tail) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const all = [...head, ...new Array(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((x, i) => setU16(out, 2 * i, x));
  return out;
}

/** Parses either address family: 4 bytes for IPv4, 16 for IPv6, null when neither. */
export function parseIp(s: string): Uint8Array | null {
  return s.includes(":") ? parseIpv6(s) : parseIpv4(s);
}

/** Formats a 4- or 16-byte address. */
export function ipToString(b: Uint8Array): string {
  return b.length === 4 ? ipv4ToString(b) : ipv6ToString(b);
}

/** Formats bytes as lower-case hex without separators. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

/** Parses hex (whitespace and `:` ignored); null when it has an odd length or a non-hex digit. */
export function fromHex(s: string): Uint8Array | null {
  const t = s.replace(/[\s:]/g, "");
  if (t.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(t)) return null;
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Joins `list` into one fresh buffer (a whole file or option body from its parts). */
export function concatBytes(list: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(list.reduce((n, a) => n + a.length, 0));
  let k = 0;
  for (const a of list) {
    out.set(a, k);
    k += a.length;
  }
  return out;
}
