// Flow identity: protocol, family, addresses and ports (or ICMP echo id) of the headers that
// name a flow. Stored as ten u32 words so tables can hash and compare it without strings.

import { ipv4ToString, ipv6ToString } from "./bytes.ts";

const W_KIND = 0, W_SRC = 1, W_DST = 5, W_PORTS = 9;
/** Number of u32 words in a flow key. */
export const FLOW_WORDS = 10;

const NAMES: Record<number, string> = { 1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6" };

/** A mutable flow id; reuse one per datapath slot and fill it per packet. */
export class FlowId {
  /** [0] = family<<8 | proto; [1..4] src; [5..8] dst (IPv4 in the first word); [9] ports. */
  readonly w = new Uint32Array(FLOW_WORDS);

  /** 4 or 6 (0 when unset). */
  get af(): number {
    return this.w[W_KIND] >>> 8;
  }
  /** IP protocol number. */
  get proto(): number {
    return this.w[W_KIND] & 0xff;
  }
  get srcPort(): number {
    return this.w[W_PORTS] >>> 16;
  }
  get dstPort(): number {
    return this.w[W_PORTS] & 0xffff;
  }

  /** Fills from IPv4 addresses at `srcOff`/`dstOff` of `b`. */
  setV4(
    proto: number,
    b: Uint8Array,
    srcOff: number,
    dstOff: number,
    sport: number,
    dport: number,
  ) {
    const w = this.w;
    w[W_KIND] = (4 << 8) | proto;
    w[W_SRC] =
      ((b[srcOff] << 24) | (b[srcOff + 1] << 16) | (b[srcOff + 2] << 8) | b[srcOff + 3]) >>>
      0;
    w[W_SRC + 1] = 0;
    w[W_SRC + 2] = 0;
    w[W_SRC + 3] = 0;
    w[W_DST] =
      ((b[dstOff] << 24) | (b[dstOff + 1] << 16) | (b[dstOff + 2] << 8) | b[dstOff + 3]) >>>
      0;
    w[W_DST + 1] = 0;
    w[W_DST + 2] = 0;
    w[W_DST + 3] = 0;
    w[W_PORTS] = ((sport << 16) | dport) >>> 0;
    return this;
  }

  /** Fills from IPv6 addresses at `srcOff`/`dstOff` of `b`. */
  setV6(
    proto: number,
    b: Uint8Array,
    srcOff: number,
    dstOff: number,
    sport: number,
    dport: number,
  ) {
    const w = this.w;
    w[W_KIND] = (6 << 8) | proto;
    for (let i = 0; i < 4; i++) {
      const s = srcOff + 4 * i, d = dstOff + 4 * i;
      w[W_SRC + i] = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
      w[W_DST + i] = ((b[d] << 24) | (b[d + 1] << 16) | (b[d + 2] << 8) | b[d + 3]) >>> 0;
    }
    w[W_PORTS] = ((sport << 16) | dport) >>> 0;
    return this;
  }

  /** Writes the reverse-direction flow (addresses and ports swapped) into `out`. */
  mirrorInto(out: FlowId): FlowId {
    const a = this.w, b = out.w;
    b[W_KIND] = a[W_KIND];
    for (let i = 0; i < 4; i++) {
      b[W_SRC + i] = a[W_DST + i];
      b[W_DST + i] = a[W_SRC + i];
    }
    b[W_PORTS] = ((a[W_PORTS] << 16) | (a[W_PORTS] >>> 16)) >>> 0;
    return out;
  }

  /** A new FlowId for the reverse direction. */
  mirror(): FlowId {
    return this.mirrorInto(new FlowId());
  }

  /** Copies another flow id's words. */
  copyFrom(o: FlowId): FlowId {
    this.w.set(o.w);
    return this;
  }

  /** A copy of this flow id. */
  clone(): FlowId {
    return new FlowId().copyFrom(this);
  }

  /** True when both name the same flow. */
  equals(o: FlowId): boolean {
    const a = this.w, b = o.w;
    for (let i = 0; i < FLOW_WORDS; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** A stable 32-bit hash (murmur3 finalised), for tables, ECMP and the Geneve source port. */
  hash(): number {
    return hashWords(this.w, 0);
  }

  /** Source address as text. */
  srcString(): string {
    return this.addrString(W_SRC);
  }

  /** Destination address as text. */
  dstString(): string {
    return this.addrString(W_DST);
  }

  private addrString(at: number): string {
    const b = new Uint8Array(16);
    for (let i = 0; i < 4; i++) {
      const v = this.w[at + i];
      b[4 * i] = v >>> 24;
      b[4 * i + 1] = v >>> 16;
      b[4 * i + 2] = v >>> 8;
      b[4 * i + 3] = v;
    }
    return this.af === 4 ? ipv4ToString(b) : ipv6ToString(b);
  }

  /** e.g. `TCP 10.0.0.5:40000 -> 8.8.8.8:443`. */
  toString(): string {
    const p = NAMES[this.proto] ?? `proto ${this.proto}`;
    const fmt = (a: string, port: number) => this.af === 6 ? `[${a}]:${port}` : `${a}:${port}`;
    return `${p} ${fmt(this.srcString(), this.srcPort)} -> ${fmt(this.dstString(), this.dstPort)}`;
  }
}

/** murmur3-style 32-bit hash of `n` words of `w` from `at`: stable, for ECMP and Geneve ports. */
export function hashWords(w: Uint32Array, at: number, n = FLOW_WORDS): number {
  let h = 0x9747b28c;
  for (let i = 0; i < n; i++) {
    let k = w[at + i];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= n * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A cheaper 30-bit hash of a flow key for tables on the per-packet path. Kept below 2^30 on
 * purpose: a number that does not fit a V8 small integer is boxed (16 bytes) whenever it crosses
 * a call that is not inlined.
 */
export function smallHash(w: Uint32Array, at = 0, n = FLOW_WORDS): number {
  let h = 0x2545f491;
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ w[at + i], 0x9e3779b1);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0x85ebca6b);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}
