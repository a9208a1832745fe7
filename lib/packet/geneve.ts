// Geneve (RFC 8926) with the Oxide option class 0x0129 (external tag, multicast replication,
// MSS), as OPTE defines them.

import { HeaderView } from "./view.ts";
import { type ParseError, parseError } from "./error.ts";
import { setU16, setU24, u16, u24, u32 } from "./bytes.ts";
import { OXIDE_OPT_EXTERNAL, OXIDE_OPT_MSS, OXIDE_OPT_MULTICAST, type PacketMeta } from "./meta.ts";

const VER_OPTLEN = 0, FLAGS = 1, PROTOCOL = 2, VNI = 4;
/** Length of the Geneve base header. */
export const GENEVE_HEADER_LEN = 8;
/** The IANA UDP port of Geneve. */
export const GENEVE_PORT = 6081;
/** Option class owned by Oxide. */
export const OXIDE_OPT_CLASS = 0x0129;
export const OXIDE_TYPE_EXTERNAL = 0;
export const OXIDE_TYPE_MULTICAST = 1;
export const OXIDE_TYPE_MSS = 2;
const FLAG_OAM = 0x80, FLAG_CRITICAL = 0x40, OPT_CRITICAL = 0x80;

/** A read/write view of a Geneve header; validated by `parseGeneve`. */
export class GeneveView extends HeaderView {
  get version(): number {
    return this.buf[this.off + VER_OPTLEN] >>> 6;
  }
  /** Option bytes after the base header. */
  get optLen(): number {
    return (this.buf[this.off + VER_OPTLEN] & 0x3f) * 4;
  }
  /** O bit: control packet. */
  get oam(): boolean {
    return (this.buf[this.off + FLAGS] & FLAG_OAM) !== 0;
  }
  /** C bit: critical options present. */
  get critical(): boolean {
    return (this.buf[this.off + FLAGS] & FLAG_CRITICAL) !== 0;
  }
  get protocol(): number {
    return u16(this.buf, this.off + PROTOCOL);
  }
  get vni(): number {
    return u24(this.buf, this.off + VNI);
  }
  set vni(v: number) {
    setU24(this.buf, this.off + VNI, v);
  }
  /** Header length including options: where the encapsulated frame starts, relative to off. */
  get headerLen(): number {
    return GENEVE_HEADER_LEN + this.optLen;
  }
}

/** One Geneve option, plain values. `data` is zero-padded to a multiple of 4 on emit. */
export interface GeneveOptionRepr {
  class: number;
  type: number;
  critical?: boolean;
  data?: Uint8Array;
}

/** Plain values of a Geneve header. */
export interface GeneveRepr {
  vni: number;
  protocol?: number;
  oam?: boolean;
  /** C bit; defaults to "any option is critical". */
  critical?: boolean;
  options?: GeneveOptionRepr[];
}

/**
 * Checks the base header and option length against [off, end): version 0, protocol type
 * Ethernet, options inside the datagram, every option's length inside the option area.
 * Never throws.
 */
export function checkGeneve(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end - off < GENEVE_HEADER_LEN) return parseError("truncated", "geneve", off);
  if (buf[off] >>> 6 !== 0) return parseError("unsupported", "geneve.version", off);
  const optLen = (buf[off] & 0x3f) * 4;
  if (GENEVE_HEADER_LEN + optLen > end - off) {
    return parseError("truncated", "geneve.options", off + GENEVE_HEADER_LEN);
  }
  if (u16(buf, off + PROTOCOL) !== 0x6558) {
    return parseError("unsupported", "geneve.protocol", off + PROTOCOL);
  }
  const optEnd = off + GENEVE_HEADER_LEN + optLen;
  for (let at = off + GENEVE_HEADER_LEN; at < optEnd;) {
    if (optEnd - at < 4) return parseError("malformed", "geneve.option", at);
    const len = 4 + (buf[at + 3] & 0x1f) * 4;
    if (len > optEnd - at) return parseError("malformed", "geneve.option-length", at + 3);
    at += len;
  }
  return null;
}

/**
 * Records the Geneve header at `off` (already checked) in `meta`: VNI, option length, O bit,
 * Oxide options, and whether any critical option is not understood. Returns a ParseError for
 * an Oxide option with a wrong length.
 */
export function scanGeneve(buf: Uint8Array, off: number, meta: PacketMeta): ParseError | null {
  meta.geneve = off;
  meta.vni = u24(buf, off + VNI);
  meta.geneveOam = (buf[off + FLAGS] & FLAG_OAM) !== 0;
  const optLen = (buf[off] & 0x3f) * 4;
  meta.geneveOptLen = optLen;
  const optEnd = off + GENEVE_HEADER_LEN + optLen;
  for (let at = off + GENEVE_HEADER_LEN; at < optEnd;) {
    const type = buf[at + 2], bodyLen = (buf[at + 3] & 0x1f) * 4;
    if (u16(buf, at) === OXIDE_OPT_CLASS) {
      switch (type & 0x7f) {
        case OXIDE_TYPE_EXTERNAL:
          meta.oxideOpts |= OXIDE_OPT_EXTERNAL;
          break;
        case OXIDE_TYPE_MULTICAST:
          if (bodyLen < 4) return parseError("malformed", "geneve.oxide-multicast", at + 3);
          meta.oxideOpts |= OXIDE_OPT_MULTICAST;
          meta.oxideReplication = buf[at + 4] >>> 6;
          break;
        case OXIDE_TYPE_MSS:
          if (bodyLen < 4) return parseError("malformed", "geneve.oxide-mss", at + 3);
          meta.oxideOpts |= OXIDE_OPT_MSS;
          meta.oxideMss = u32(buf, at + 4);
          break;
        default:
          if (type & OPT_CRITICAL) meta.geneveUnknownCritical = true;
      }
    } else if (type & OPT_CRITICAL) meta.geneveUnknownCritical = true;
    at += 4 + bodyLen;
  }
  return null;
}

/** Validates once and returns a view. Never throws. */
export function parseGeneve(buf: Uint8Array, off: number, end: number): GeneveView | ParseError {
  return checkGeneve(buf, off, end) ?? new GeneveView(buf, off);
}

/** Reads a view into a Repr (options included). */
export function geneveRepr(v: GeneveView): GeneveRepr {
  const options: GeneveOptionRepr[] = [];
  const b = v.buf, end = v.off + v.headerLen;
  for (let at = v.off + GENEVE_HEADER_LEN; at < end;) {
    const len = (b[at + 3] & 0x1f) * 4;
    options.push({
      class: u16(b, at),
      type: b[at + 2] & 0x7f,
      critical: (b[at + 2] & OPT_CRITICAL) !== 0,
      data: b.slice(at + 4, at + 4 + len),
    });
    at += 4 + len;
  }
  return { vni: v.vni, protocol: v.protocol, oam: v.oam, critical: v.critical, options };
}

function optionBodyLen(o: GeneveOptionRepr): number {
  return ((o.data?.length ?? 0) + 3) & ~3;
}

/** Bytes `emitGeneve` writes. */
export function geneveBufferLen(r: GeneveRepr): number {
  let n = GENEVE_HEADER_LEN;
  for (const o of r.options ?? []) n += 4 + optionBodyLen(o);
  return n;
}

/** Writes the header and options at `off`; returns its length. */
export function emitGeneve(r: GeneveRepr, buf: Uint8Array, off: number): number {
  const len = geneveBufferLen(r);
  buf.fill(0, off, off + len);
  const opts = r.options ?? [];
  const critical = r.critical ?? opts.some((o) => o.critical);
  buf[off + VER_OPTLEN] = ((len - GENEVE_HEADER_LEN) / 4) & 0x3f;
  buf[off + FLAGS] = (r.oam ? FLAG_OAM : 0) | (critical ? FLAG_CRITICAL : 0);
  setU16(buf, off + PROTOCOL, r.protocol ?? 0x6558);
  setU24(buf, off + VNI, r.vni);
  let at = off + GENEVE_HEADER_LEN;
  for (const o of opts) {
    const body = optionBodyLen(o);
    setU16(buf, at, o.class);
    buf[at + 2] = (o.type & 0x7f) | (o.critical ? OPT_CRITICAL : 0);
    buf[at + 3] = body / 4;
    if (o.data) buf.set(o.data, at + 4);
    at += 4 + body;
  }
  return len;
}

/** The Oxide external-tag option (OPTE marks traffic that came from outside the VPC). */
export function oxideExternalOption(): GeneveOptionRepr {
  return { class: OXIDE_OPT_CLASS, type: OXIDE_TYPE_EXTERNAL };
}

/** The Oxide MSS option carrying the original TCP MSS. */
export function oxideMssOption(mss: number): GeneveOptionRepr {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, mss);
  return { class: OXIDE_OPT_CLASS, type: OXIDE_TYPE_MSS, data };
}

/** The Oxide multicast option with a replication mode (0 external, 1 underlay, 2 both). */
export function oxideMulticastOption(replication: number): GeneveOptionRepr {
  return {
    class: OXIDE_OPT_CLASS,
    type: OXIDE_TYPE_MULTICAST,
    data: Uint8Array.of((replication & 3) << 6, 0, 0, 0),
  };
}
