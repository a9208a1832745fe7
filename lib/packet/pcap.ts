// Classic libpcap files: the writer capture code streams into, and a reader for tests and
// `xdeno decode`. Written little-endian with microsecond stamps (what tcpdump writes on x86);
// read in either byte order with micro- or nanosecond stamps. pcapng is not read.

import { type ParseError, parseError } from "./error.ts";
import { concatBytes } from "./bytes.ts";

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
/** Global header and per-record header sizes. */
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** LINKTYPE_ETHERNET. */
export const LINKTYPE_ETHERNET = 1;
/** Records larger than this are taken as a corrupt length rather than a frame. */
const MAX_RECORD = 0x40000;

/** Streams frames as a pcap: the constructor writes the global header. */
export class PcapWriter {
  /** Frames written so far. */
  frames = 0;

  /** `write` receives each chunk once and may keep it (chunks are never reused). */
  constructor(
    private readonly write: (chunk: Uint8Array) => void,
    readonly snaplen = 65535,
    readonly linkType = LINKTYPE_ETHERNET,
  ) {
    const h = new Uint8Array(PCAP_HEADER_LEN);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, MAGIC_US, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setUint32(16, snaplen, true);
    dv.setUint32(20, linkType, true);
    write(h);
  }

  /** Appends one frame (cut to snaplen); the time defaults to now. */
  writeFrame(buf: Uint8Array, off: number, len: number, timeMicros?: number): void {
    const t = timeMicros ?? Math.round((performance.timeOrigin + performance.now()) * 1000);
    const incl = Math.min(len, this.snaplen);
    const rec = new Uint8Array(PCAP_RECORD_HEADER_LEN + incl);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, Math.floor(t / 1e6), true);
    dv.setUint32(4, t % 1e6, true);
    dv.setUint32(8, incl, true);
    dv.setUint32(12, len, true);
    rec.set(buf.subarray(off, off + incl), PCAP_RECORD_HEADER_LEN);
    this.frames++;
    this.write(rec);
  }
}

/** One record read back from a pcap. */
export interface PcapRecord {
  /** Capture time in microseconds since the epoch (nanosecond files are rounded down). */
  timeMicros: number;
  /** Length on the wire; `data.length` is the captured part. */
  origLen: number;
  data: Uint8Array;
}

/** A whole pcap file read back. */
export interface PcapFile {
  linkType: number;
  snaplen: number;
  nanos: boolean;
  records: PcapRecord[];
}

/** Reads a whole pcap; a bad header or a truncated record is a ParseError. Never throws. */
export function readPcapFile(bytes: Uint8Array): PcapFile | ParseError {
  if (bytes.length < PCAP_HEADER_LEN) return parseError("truncated", "pcap", 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  const m = dv.getUint32(0, true);
  if (m === MAGIC_US || m === MAGIC_NS) le = true;
  else {
    const mb = dv.getUint32(0, false);
    if (mb !== MAGIC_US && mb !== MAGIC_NS) {
      return parseError(m === 0x0a0d0d0a ? "unsupported" : "malformed", "pcap", 0);
    }
    le = false;
  }
  const nanos = dv.getUint32(0, le) === MAGIC_NS;
  if (dv.getUint16(4, le) !== 2) return parseError("unsupported", "pcap.version", 4);
  const file: PcapFile = {
    linkType: dv.getUint32(20, le) & 0x0fffffff,
    snaplen: dv.getUint32(16, le),
    nanos,
    records: [],
  };
  let i = PCAP_HEADER_LEN;
  while (i < bytes.length) {
    if (i + PCAP_RECORD_HEADER_LEN > bytes.length) return parseError("truncated", "pcap.record", i);
    const sec = dv.getUint32(i, le), frac = dv.getUint32(i + 4, le);
    const incl = dv.getUint32(i + 8, le), orig = dv.getUint32(i + 12, le);
    if (incl > MAX_RECORD) return parseError("malformed", "pcap.record", i);
    const start = i + PCAP_RECORD_HEADER_LEN;
    if (start + incl > bytes.length) return parseError("truncated", "pcap.record", i);
    file.records.push({
      timeMicros: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      origLen: orig,
      data: bytes.subarray(start, start + incl),
    });
    i = start + incl;
  }
  return file;
}

/** The records of a pcap (see readPcapFile). */
export function readPcap(bytes: Uint8Array): PcapRecord[] | ParseError {
  const f = readPcapFile(bytes);
  return "records" in f ? f.records : f;
}

/** A complete pcap holding `frames`, one microsecond apart from t=1 s (for tests). */
export function pcapFile(frames: Uint8Array[], linkType = LINKTYPE_ETHERNET): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c), 65535, linkType);
  frames.forEach((f, k) => w.writeFrame(f, 0, f.length, 1e6 + k));
  return concatBytes(chunks);
}
