// RFC 1035 names as DHCP (option 119, RFC 3397) and DHCPv6 (option 24, RFC 8415) carry them.

import { type ParseError, parseError } from "./error.ts";

export function latin1(d: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let k = from; k < to; k++) s += String.fromCharCode(d[k]);
  return s;
}

/** Most pointer hops per name; backwards-only pointers already bound it (belt and braces). */
const MAX_POINTER_HOPS = 64;

/**
 * Decodes a sequence of RFC 1035 names filling `d` (DHCP option 119, DHCPv6 option 24).
 * Compression pointers (only when `compressed`) must point before the current segment.
 */
export function decodeDnsNames(d: Uint8Array, compressed: boolean): string[] | ParseError {
  const names: string[] = [];
  let i = 0;
  while (i < d.length) {
    const labels: string[] = [];
    // Each pointer must land before the segment it is read from, so positions strictly
    // decrease and a loop is impossible.
    let p = i, segment = i, jumped = false, hops = 0, total = 0;
    for (;;) {
      if (p >= d.length) return parseError("truncated", "dns-name", p);
      const len = d[p];
      if (len === 0) {
        if (!jumped) i = p + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (!compressed) return parseError("malformed", "dns-name", p);
        if (p + 1 >= d.length) return parseError("truncated", "dns-name", p);
        const target = ((len & 0x3f) << 8) | d[p + 1];
        if (target >= segment || ++hops > MAX_POINTER_HOPS) {
          return parseError("malformed", "dns-name", p);
        }
        if (!jumped) i = p + 2;
        jumped = true;
        p = segment = target;
        continue;
      }
      if (len > 63) return parseError("malformed", "dns-name", p);
      if (p + 1 + len > d.length) return parseError("truncated", "dns-name", p);
      total += len + 1;
      if (total > 255) return parseError("malformed", "dns-name", p);
      labels.push(latin1(d, p + 1, p + 1 + len));
      p += 1 + len;
    }
    names.push(labels.join("."));
  }
  return names;
}

/** Encodes names without compression (RFC 8415 requires that; RFC 3397 allows it). */
export function encodeDnsNames(names: string[]): Uint8Array {
  const parts: number[] = [];
  for (const name of names) {
    const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
    let total = 1;
    for (const label of trimmed === "" ? [] : trimmed.split(".")) {
      if (label.length === 0 || label.length > 63) {
        throw new RangeError(`DNS name "${name}": label length must be 1..63`);
      }
      total += label.length + 1;
      parts.push(label.length);
      for (let k = 0; k < label.length; k++) parts.push(label.charCodeAt(k) & 0xff);
    }
    if (total > 255) throw new RangeError(`DNS name "${name}" is longer than 255 bytes`);
    parts.push(0);
  }
  return Uint8Array.from(parts);
}
