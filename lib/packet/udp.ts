// UDP (RFC 768).

import { L4_DST_PORT, L4_SRC_PORT, PortsView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { setU16, u16 } from "./bytes.ts";

/** Field offsets from the start of the UDP header. */
export const UDP_LENGTH = 4, UDP_CHECKSUM = 6;
const SRC_PORT = L4_SRC_PORT, DST_PORT = L4_DST_PORT, LENGTH = UDP_LENGTH, CHECKSUM = UDP_CHECKSUM;
/** Length of a UDP header. */
export const UDP_HEADER_LEN = 8;

/** A read/write view of a UDP header at `off` in `buf`; validated by `parseUdp`. */
export class UdpView extends PortsView {
  /** Header plus payload length. */
  get length(): number {
    return u16(this.buf, this.off + LENGTH);
  }
  set length(v: number) {
    setU16(this.buf, this.off + LENGTH, v);
  }
  get checksum(): number {
    return u16(this.buf, this.off + CHECKSUM);
  }
  set checksum(v: number) {
    setU16(this.buf, this.off + CHECKSUM, v);
  }
}

/** Plain values of a UDP header (the checksum is filled in by the caller or builder). */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** Bytes after the header. */
  payloadLen: number;
}

/** Checks the header and its length field against [off, end). Never throws. */
export function checkUdp(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < UDP_HEADER_LEN) return parseError("truncated", "udp", off);
  const len = u16(buf, off + LENGTH);
  if (len < UDP_HEADER_LEN) return parseError("malformed", "udp.length", off + LENGTH);
  if (len > end - off) return parseError("truncated", "udp.length", off + LENGTH);
  return null;
}

/** Validates once and returns a view. Never throws. */
export function parseUdp(buf: Uint8Array, off: number, end: number): UdpView | ParseError {
  return checkUdp(buf, off, end) ?? new UdpView(buf, off);
}

/** Reads a view into a Repr. */
export function udpRepr(v: UdpView): UdpRepr {
  return { srcPort: v.srcPort, dstPort: v.dstPort, payloadLen: v.length - UDP_HEADER_LEN };
}

/** Bytes `emitUdp` writes. */
export function udpBufferLen(_r: UdpRepr): number {
  return UDP_HEADER_LEN;
}

/** Writes the header with a zero checksum at `off`; returns its length. */
export function emitUdp(r: UdpRepr, buf: Uint8Array, off: number): number {
  setU16(buf, off + SRC_PORT, r.srcPort);
  setU16(buf, off + DST_PORT, r.dstPort);
  setU16(buf, off + LENGTH, UDP_HEADER_LEN + r.payloadLen);
  setU16(buf, off + CHECKSUM, 0);
  return UDP_HEADER_LEN;
}
