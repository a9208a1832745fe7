// Guest-side request frames and an independent RFC 1071 checksum for the VPC tests.

import { fromHex, parseIpv4, parseIpv6, parseMac } from "../../lib/packet/bytes.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";

/** Parses `hex` (spaces allowed) or fails the test. */
export function hex(s: string): Uint8Array {
  const b = fromHex(s);
  if (!b) throw new Error(`bad hex in test: ${s}`);
  return b;
}

export const mac = (s: string): Uint8Array => parseMac(s)!;
export const ip4 = (s: string): Uint8Array => parseIpv4(s)!;
export const ip6 = (s: string): Uint8Array => parseIpv6(s)!;

/** RFC 1071 sum written from scratch (not lib/packet/checksum.ts), for expected bytes. */
export function inetChecksum(parts: Uint8Array[]): number {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += (all[i] << 8) | (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Big-endian u16 bytes. */
export function be16(v: number): Uint8Array {
  return Uint8Array.of(v >>> 8, v & 0xff);
}

/** Parses a frame into a fresh PacketMeta, failing the test on a parse error. */
export function parsed(frame: Uint8Array): PacketMeta {
  const meta = new PacketMeta();
  const err = parseFrame(frame, 0, frame.length, meta);
  if (err) throw new Error(`test frame does not parse: ${JSON.stringify(err)}`);
  return meta;
}

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
