// pcapng (draft-ietf-opsawg-pcapng): the blocks replay reads and writes. Section Header (SHB),
// Interface Description (IDB, with the if_name and if_tsresol options) and Enhanced Packet
// (EPB). Read in either byte order, strictly: a bad or truncated block is a ParseError naming it
// (`at`) and where it starts (`offset`). Other block kinds (name resolution, statistics, custom)
// are skipped; the obsolete Packet and the Simple Packet block carry no interface time and are
// refused. Written little-endian with nanosecond stamps.

import { type ParseError, parseError } from "./error.ts";

const SHB = 0x0a0d0d0a, IDB = 1, OLD_PB = 2, SPB = 3, EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0, OPT_IF_NAME = 2, OPT_IF_TSRESOL = 9;
/** Smallest block: type, total length, trailing total length. */
const BLOCK_MIN = 12;
/** Blocks larger than this are taken as a corrupt length. */
const MAX_BLOCK = 1 << 24;

/** A read/write view of a block's fixed head (type, total length) at `off`. */
export class PcapngBlockView {
  constructor(readonly dv: DataView, readonly off: number, readonly le: boolean) {}
  get type(): number {
    return this.dv.getUint32(this.off, this.le);
  }
  get totalLength(): number {
    return this.dv.getUint32(this.off + 4, this.le);
  }
  /** Body bytes (between the length and the trailing length). */
  get bodyOff(): number {
    return this.off + 8;
  }
  get bodyEnd(): number {
    return this.off + this.totalLength - 4;
  }
}

/** One interface of a section. */
export interface PcapngInterface {
  linkType: number;
  snaplen: number;
  /** The if_name option; null when absent. */
  name: string | null;
  /** Nanoseconds per timestamp unit numerator/denominator: ns = ticks * num / den. */
  tsNum: bigint;
  tsDen: bigint;
}

/** One packet read back. */
export interface PcapngPacket {
  /** Index into `PcapngFile.interfaces` (over every section, in file order). */
  iface: number;
  /** Capture time in nanoseconds since the epoch. */
  timeNs: bigint;
  origLen: number;
  data: Uint8Array;
  /** File offset of its EPB (for error messages). */
  offset: number;
}

/** A whole pcapng read back. */
export interface PcapngFile {
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
}

/** Walks a block's options in [off, end); calls `fn(code, valueOff, len)`; false when malformed. */
function walkOptions(
  dv: DataView,
  off: number,
  end: number,
  le: boolean,
  fn: (code: number, at: number, len: number) => boolean,
): boolean {
  while (off + 4 <= end) {
    const code = dv.getUint16(off, le), len = dv.getUint16(off + 2, le);
    if (code === OPT_END) return true;
    if (off + 4 + len > end) return false;
    if (!fn(code, off + 4, len)) return false;
    off += 4 + ((len + 3) & ~3);
  }
  return off === end;
}

/** Reads a whole pcapng; never throws. */
export function readPcapngFile(bytes: Uint8Array): PcapngFile | ParseError {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || dv.getUint32(0, true) !== SHB) {
    return parseError("malformed", "pcapng.shb (not a pcapng file)", 0);
  }
  const file: PcapngFile = { interfaces: [], packets: [] };
  let base = 0; // index of the current section's first interface
  let le = true;
  let off = 0;
  while (off < bytes.length) {
    if (off + 8 > bytes.length) return parseError("truncated", "pcapng.block", off);
    const first = dv.getUint32(off, true);
    if (first === SHB) {
      if (off + 28 > bytes.length) return parseError("truncated", "pcapng.shb", off);
      const magic = dv.getUint32(off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === 0x4d3c2b1a) le = false;
      else return parseError("malformed", "pcapng.shb.byte_order_magic", off + 8);
      if (dv.getUint16(off + 12, le) !== 1) {
        return parseError("unsupported", "pcapng.shb.major_version", off + 12);
      }
      base = file.interfaces.length;
    }
    const b = new PcapngBlockView(dv, off, le);
    const total = b.totalLength;
    const name = blockName(b.type);
    if (total < BLOCK_MIN || total % 4 !== 0 || total > MAX_BLOCK) {
      return parseError("malformed", `${name}.block_total_length`, off + 4);
    }
    if (off + total > bytes.length) return parseError("truncated", name, off);
    if (dv.getUint32(b.bodyEnd, le) !== total) {
      return parseError("malformed", `${name}.trailing_block_total_length`, b.bodyEnd);
    }
    const err = b.type === IDB
      ? readIdb(dv, b, file)
      : b.type === EPB
      ? readEpb(bytes, dv, b, base, file)
      : b.type === OLD_PB || b.type === SPB
      ? parseError("unsupported", `${name} (no interface timestamp; use EPB)`, off)
      : null;
    if (err) return err;
    off += total;
  }
  return file;
}

function blockName(type: number): string {
  switch (type) {
    case SHB:
      return "pcapng.shb";
    case IDB:
      return "pcapng.idb";
    case EPB:
      return "pcapng.epb";
    case OLD_PB:
      return "pcapng.packet_block";
    case SPB:
      return "pcapng.spb";
    default:
      return `pcapng.block(type 0x${type.toString(16)})`;
  }
}

function readIdb(dv: DataView, b: PcapngBlockView, file: PcapngFile): ParseError | null {
  const at = `pcapng.idb[${file.interfaces.length}]`;
  if (b.totalLength < 20) return parseError("truncated", at, b.off);
  const iface: PcapngInterface = {
    linkType: dv.getUint16(b.bodyOff, b.le),
    snaplen: dv.getUint32(b.bodyOff + 4, b.le),
    name: null,
    tsNum: 1000n,
    tsDen: 1n,
  };
  let bad = "options";
  const ok = walkOptions(dv, b.bodyOff + 8, b.bodyEnd, b.le, (code, v, len) => {
    if (code === OPT_IF_NAME) {
      bad = "if_name";
      iface.name = new TextDecoder("utf-8", { fatal: false })
        .decode(new Uint8Array(dv.buffer, dv.byteOffset + v, len)).replace(/\0+$/, "");
    } else if (code === OPT_IF_TSRESOL) {
      bad = "if_tsresol";
      if (len !== 1) return false;
      const r = dv.getUint8(v), n = BigInt(r & 0x7f);
      if ((r & 0x80) !== 0) {
        if (n > 62n) return false;
        [iface.tsNum, iface.tsDen] = [1_000_000_000n, 1n << n];
      } else {
        if (n > 18n) return false;
        [iface.tsNum, iface.tsDen] = n <= 9n ? [10n ** (9n - n), 1n] : [1n, 10n ** (n - 9n)];
      }
    }
    bad = "options";
    return true;
  });
  if (!ok) return parseError("malformed", `${at}.${bad}`, b.off);
  file.interfaces.push(iface);
  return null;
}

function readEpb(
  bytes: Uint8Array,
  dv: DataView,
  b: PcapngBlockView,
  base: number,
  file: PcapngFile,
): ParseError | null {
  const at = `pcapng.epb[${file.packets.length}]`;
  if (b.totalLength < 32) return parseError("truncated", at, b.off);
  const o = b.bodyOff;
  const id = dv.getUint32(o, b.le);
  const iface = file.interfaces[base + id];
  if (id >= file.interfaces.length - base || iface === undefined) {
    return parseError("malformed", `${at}.interface_id (${id}: no such IDB)`, o);
  }
  const caplen = dv.getUint32(o + 12, b.le);
  if (o + 20 + caplen > b.bodyEnd) return parseError("truncated", `${at}.packet_data`, b.off);
  const ticks = (BigInt(dv.getUint32(o + 4, b.le)) << 32n) | BigInt(dv.getUint32(o + 8, b.le));
  file.packets.push({
    iface: base + id,
    timeNs: ticks * iface.tsNum / iface.tsDen,
    origLen: dv.getUint32(o + 16, b.le),
    data: bytes.subarray(o + 20, o + 20 + caplen),
    offset: b.off,
  });
  return null;
}

const pad4 = (n: number) => (n + 3) & ~3;

/** Streams a pcapng: a section header, interfaces added on first use, packets as EPBs (ns). */
export class PcapngWriter {
  private readonly ifaces = new Map<string, number>();
  /** Packets written so far. */
  packets = 0;

  /** `write` receives each block once and may keep it. */
  constructor(private readonly write: (chunk: Uint8Array) => void, readonly snaplen = 262144) {
    const shb = new Uint8Array(28);
    const dv = new DataView(shb.buffer);
    dv.setUint32(0, SHB, true);
    dv.setUint32(4, 28, true);
    dv.setUint32(8, BYTE_ORDER_MAGIC, true);
    dv.setUint16(12, 1, true);
    dv.setBigInt64(16, -1n, true); // section length not given
    dv.setUint32(24, 28, true);
    write(shb);
  }

  /** The interface id named `name` (Ethernet, ns resolution), writing its IDB on first use. */
  iface(name: string): number {
    let id = this.ifaces.get(name);
    if (id !== undefined) return id;
    const nb = new TextEncoder().encode(name);
    const total = 20 + 4 + pad4(nb.length) + 4 + 4 + 4;
    const blk = new Uint8Array(total);
    const dv = new DataView(blk.buffer);
    dv.setUint32(0, IDB, true);
    dv.setUint32(4, total, true);
    dv.setUint16(8, 1, true); // LINKTYPE_ETHERNET
    dv.setUint32(12, this.snaplen, true);
    let o = 16;
    dv.setUint16(o, OPT_IF_NAME, true);
    dv.setUint16(o + 2, nb.length, true);
    blk.set(nb, o + 4);
    o += 4 + pad4(nb.length);
    dv.setUint16(o, OPT_IF_TSRESOL, true);
    dv.setUint16(o + 2, 1, true);
    blk[o + 4] = 9;
    o += 8; // then opt_endofopt (zeros)
    dv.setUint32(total - 4, total, true);
    id = this.ifaces.size;
    this.ifaces.set(name, id);
    this.write(blk);
    return id;
  }

  /** Appends one frame on interface `name` at `timeNs` (ns since the epoch). */
  writePacket(name: string, timeNs: bigint, frame: Uint8Array): void {
    const id = this.iface(name);
    const cap = Math.min(frame.length, this.snaplen);
    const total = 32 + pad4(cap);
    const blk = new Uint8Array(total);
    const dv = new DataView(blk.buffer);
    dv.setUint32(0, EPB, true);
    dv.setUint32(4, total, true);
    dv.setUint32(8, id, true);
    dv.setUint32(12, Number(timeNs >> 32n), true);
    dv.setUint32(16, Number(timeNs & 0xffffffffn), true);
    dv.setUint32(20, cap, true);
    dv.setUint32(24, frame.length, true);
    blk.set(frame.subarray(0, cap), 28);
    dv.setUint32(total - 4, total, true);
    this.packets++;
    this.write(blk);
  }
}
