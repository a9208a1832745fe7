// struct virtio_net_hdr (linux/virtio_net.h), the per-frame offload header TAP devices with
// IFF_VNET_HDR and packet sockets with PACKET_VNET_HDR put before each frame. It is a wire format
// like any other here (host byte order, little-endian on every platform we run on). A frame the
// consumer cannot pass on with its header is made plain here: a partial checksum is completed; a
// GSO super-frame cannot be represented and is dropped by the caller.

import { HeaderView } from "./view.ts";

/** Length of the header (without the mergeable-buffers count). */
export const VIRTIO_NET_HDR_LEN = 10;
/** Field offsets from the start of the header. */
export const VNET_FLAGS = 0,
  VNET_GSO_TYPE = 1,
  VNET_HDR_LEN_FIELD = 2,
  VNET_GSO_SIZE = 4,
  VNET_CSUM_START = 6,
  VNET_CSUM_OFFSET = 8;

/** `flags`: the checksum at csum_start + csum_offset holds only the pseudo-header sum. */
export const VNET_F_NEEDS_CSUM = 1;
/** `flags`: the checksum was verified. */
export const VNET_F_DATA_VALID = 2;
/** `gso_type` values. */
export const VNET_GSO_NONE = 0, VNET_GSO_TCPV4 = 1, VNET_GSO_UDP = 3, VNET_GSO_TCPV6 = 4;
/** `gso_type`: UDP segmentation (UDP_SEGMENT): the UDP payload cut every gso_size bytes. */
export const VNET_GSO_UDP_L4 = 5;
/** `gso_type` flag: the TCP stream uses ECN (CWR set on the first segment only). */
export const VNET_GSO_ECN = 0x80;

/** Little-endian u16 (the header is in host byte order). */
function le16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function setLe16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = v >>> 8;
}

/** A read/write view of one virtio-net header; re-point it with `reset` per frame. */
export class VirtioNetView extends HeaderView {
  get flags(): number {
    return this.buf[this.off + VNET_FLAGS];
  }
  set flags(v: number) {
    this.buf[this.off + VNET_FLAGS] = v;
  }
  /** GSO type with the ECN flag. */
  get gsoType(): number {
    return this.buf[this.off + VNET_GSO_TYPE];
  }
  set gsoType(v: number) {
    this.buf[this.off + VNET_GSO_TYPE] = v;
  }
  /** GSO type without the ECN flag. */
  get gsoKind(): number {
    return this.buf[this.off + VNET_GSO_TYPE] & ~VNET_GSO_ECN;
  }
  /** True for a GSO super-frame (segmented later by the kernel). */
  get isGso(): boolean {
    return this.gsoKind !== VNET_GSO_NONE;
  }
  /** True when neither flags nor GSO type are set: a plain frame. */
  get isPlain(): boolean {
    return this.buf[this.off + VNET_FLAGS] === 0 && this.buf[this.off + VNET_GSO_TYPE] === 0;
  }
  /** Length of the headers before the payload (a hint for GSO). */
  get hdrLen(): number {
    return le16(this.buf, this.off + VNET_HDR_LEN_FIELD);
  }
  set hdrLen(v: number) {
    setLe16(this.buf, this.off + VNET_HDR_LEN_FIELD, v);
  }
  /** Payload bytes per segment. */
  get gsoSize(): number {
    return le16(this.buf, this.off + VNET_GSO_SIZE);
  }
  set gsoSize(v: number) {
    setLe16(this.buf, this.off + VNET_GSO_SIZE, v);
  }
  get csumStart(): number {
    return le16(this.buf, this.off + VNET_CSUM_START);
  }
  set csumStart(v: number) {
    setLe16(this.buf, this.off + VNET_CSUM_START, v);
  }
  get csumOffset(): number {
    return le16(this.buf, this.off + VNET_CSUM_OFFSET);
  }
  set csumOffset(v: number) {
    setLe16(this.buf, this.off + VNET_CSUM_OFFSET, v);
  }
  /** Zeroes the header: a plain frame. */
  clear(): void {
    this.buf.fill(0, this.off, this.off + VIRTIO_NET_HDR_LEN);
  }
}

/** What a received header asks of a consumer that cannot carry it. */
export const enum VnetVerdict {
  /** Plain frame: nothing to do. */
  Plain = 0,
  /** The checksum was completed in place. */
  Completed = 1,
  /** A GSO super-frame or a malformed header: drop and count. */
  Drop = 2,
}

/**
 * Finishes a CHECKSUM_PARTIAL frame: the field at start+offset holds the pseudo-header sum;
 * the one's complement sum over [start, len) goes there. Returns false when out of bounds.
 */
export function completeChecksum(
  buf: Uint8Array,
  off: number,
  len: number,
  start: number,
  offset: number,
): boolean {
  if (start + offset + 2 > len) return false;
  let s = 0;
  const end = off + len;
  let i = off + start;
  for (; i + 1 < end; i += 2) s += (buf[i] << 8) | buf[i + 1];
  if (i < end) s += buf[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  let c = ~s & 0xffff;
  if (c === 0 && offset === 6) c = 0xffff; // UDP: 0 means "no checksum"
  buf[off + start + offset] = c >>> 8;
  buf[off + start + offset + 1] = c & 0xff;
  return true;
}

/** Applies header `h` (at `ho`) to the frame for a consumer without headers. */
export function resolveVnet(
  h: Uint8Array,
  ho: number,
  buf: Uint8Array,
  off: number,
  len: number,
): VnetVerdict {
  if ((h[ho + VNET_GSO_TYPE] & ~VNET_GSO_ECN) !== VNET_GSO_NONE) return VnetVerdict.Drop;
  if ((h[ho + VNET_FLAGS] & VNET_F_NEEDS_CSUM) === 0) return VnetVerdict.Plain;
  const start = le16(h, ho + VNET_CSUM_START), offset = le16(h, ho + VNET_CSUM_OFFSET);
  return completeChecksum(buf, off, len, start, offset) ? VnetVerdict.Completed : VnetVerdict.Drop;
}
