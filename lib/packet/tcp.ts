// TCP (RFC 9293) header, flags and options (MSS, window scale, SACK-permitted, timestamps).

import { L4_DST_PORT, L4_SRC_PORT, PortsView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { setU16, setU32, u16, u32 } from "./bytes.ts";

/** Field offsets from the start of the TCP header. */
export const TCP_SEQ = 4, TCP_ACK_NO = 8, TCP_DATA_OFF = 12, TCP_FLAGS = 13, TCP_CHECKSUM = 16;
const SRC_PORT = L4_SRC_PORT, DST_PORT = L4_DST_PORT, SEQ = TCP_SEQ, ACK = TCP_ACK_NO;
const DOFF = TCP_DATA_OFF, FLAGS = TCP_FLAGS, WINDOW = 14, CHECKSUM = TCP_CHECKSUM, URGENT = 18;
/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = 20;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

const OPT_END = 0, OPT_NOP = 1, OPT_MSS = 2;

const FLAG_LETTERS: [string, number][] = [
  ["F", TCP_FIN],
  ["S", TCP_SYN],
  ["R", TCP_RST],
  ["P", TCP_PSH],
  ["A", TCP_ACK],
  ["U", TCP_URG],
  ["E", TCP_ECE],
  ["C", TCP_CWR],
];

/** Parses "SA"-style flag letters (F S R P A U E C); null on an unknown letter. */
export function parseTcpFlags(s: string): number | null {
  let f = 0;
  for (const ch of s.toUpperCase()) {
    const hit = FLAG_LETTERS.find(([l]) => l === ch);
    if (!hit) return null;
    f |= hit[1];
  }
  return f;
}

/** Formats flags as letters in S A F R P U E C order, e.g. "SA". */
export function tcpFlagsToString(f: number): string {
  let s = "";
  for (const [l, bit] of FLAG_LETTERS) if (f & bit) s += l;
  return s;
}

/** A read/write view of a TCP header; validated by `parseTcp`. */
export class TcpView extends PortsView {
  get seq(): number {
    return u32(this.buf, this.off + SEQ);
  }
  get ack(): number {
    return u32(this.buf, this.off + ACK);
  }
  /** Header length in bytes (data offset × 4). */
  get headerLen(): number {
    return (this.buf[this.off + DOFF] >>> 4) * 4;
  }
  get flags(): number {
    return this.buf[this.off + FLAGS];
  }
  get window(): number {
    return u16(this.buf, this.off + WINDOW);
  }
  get checksum(): number {
    return u16(this.buf, this.off + CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.buf, this.off + CHECKSUM, v);
  }
  get urgent(): number {
    return u16(this.buf, this.off + URGENT);
  }
  /** Option bytes (subarray, no copy). */
  get options(): Uint8Array {
    return this.buf.subarray(this.off + TCP_HEADER_LEN, this.off + this.headerLen);
  }
  /** Offset of the MSS option's value, -1 when absent or when the options are malformed. */
  mssAt(): number {
    return findTcpOption(this.buf, this.off + TCP_HEADER_LEN, this.off + this.headerLen, OPT_MSS);
  }
  /** The MSS option value, 0 when absent. */
  get mss(): number {
    const at = this.mssAt();
    return at < 0 ? 0 : u16(this.buf, at);
  }
}

/** Offset of option `kind`'s value in [off, end), -1 when absent or the list is malformed. */
export function findTcpOption(buf: Uint8Array, off: number, end: number, kind: number): number {
  let at = off;
  while (at < end) {
    const k = buf[at];
    if (k === OPT_END) return -1;
    if (k === OPT_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= end) return -1;
    const len = buf[at + 1];
    if (len < 2 || at + len > end) return -1;
    if (k === kind) return at + 2;
    at += len;
  }
  return -1;
}

/** Plain values of a TCP header (checksum filled in by the caller or builder). */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags: number;
  window?: number;
  urgent?: number;
  /** Emits an MSS option when set. */
  mss?: number;
  /** Further raw option bytes after MSS; the total is zero-padded (EOL) to 4-byte multiples. */
  options?: Uint8Array;
}

/** Checks the header and data offset against [off, end). Never throws. */
export function checkTcp(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < TCP_HEADER_LEN) return parseError("truncated", "tcp", off);
  const hlen = (buf[off + DOFF] >>> 4) * 4;
  if (hlen < TCP_HEADER_LEN) return parseError("malformed", "tcp.data-offset", off + DOFF);
  if (hlen > end - off) return parseError("truncated", "tcp.options", off + TCP_HEADER_LEN);
  return null;
}

/** Validates once and returns a view. Never throws. */
export function parseTcp(buf: Uint8Array, off: number, end: number): TcpView | ParseError {
  return checkTcp(buf, off, end) ?? new TcpView(buf, off);
}

/** Reads a view into a Repr (options other than MSS kept raw). */
export function tcpRepr(v: TcpView): TcpRepr {
  const r: TcpRepr = {
    srcPort: v.srcPort,
    dstPort: v.dstPort,
    seq: v.seq,
    ack: v.ack,
    flags: v.flags,
    window: v.window,
    urgent: v.urgent,
  };
  const mss = v.mssAt();
  if (mss >= 0) r.mss = u16(v.buf, mss);
  const opts = v.options;
  if (opts.length > 0 && !(mss >= 0 && opts.length === 4 && mss === v.off + TCP_HEADER_LEN + 2)) {
    r.options = opts.slice();
    delete r.mss;
  }
  return r;
}

/** Bytes `emitTcp` writes. */
export function tcpBufferLen(r: TcpRepr): number {
  const opt = (r.mss !== undefined ? 4 : 0) + (r.options?.length ?? 0);
  return TCP_HEADER_LEN + ((opt + 3) & ~3);
}

/** Writes the header with a zero checksum at `off`; returns its length. */
export function emitTcp(r: TcpRepr, buf: Uint8Array, off: number): number {
  const hlen = tcpBufferLen(r);
  buf.fill(0, off, off + hlen);
  setU16(buf, off + SRC_PORT, r.srcPort);
  setU16(buf, off + DST_PORT, r.dstPort);
  setU32(buf, off + SEQ, r.seq ?? 0);
  setU32(buf, off + ACK, r.ack ?? 0);
  buf[off + DOFF] = (hlen / 4) << 4;
  buf[off + FLAGS] = r.flags;
  setU16(buf, off + WINDOW, r.window ?? 65535);
  setU16(buf, off + URGENT, r.urgent ?? 0);
  let at = off + TCP_HEADER_LEN;
  if (r.mss !== undefined) {
    buf[at] = OPT_MSS;
    buf[at + 1] = 4;
    setU16(buf, at + 2, r.mss);
    at += 4;
  }
  if (r.options) buf.set(r.options, at);
  return hlen;
}
