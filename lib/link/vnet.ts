// virtio-net header handling for offload-capable links (TAP with IFF_VNET_HDR, packet sockets
// with PACKET_VNET_HDR). When the consumer's batch carries no headers, a frame whose checksum
// the sender left partial is completed here; a GSO super-frame cannot be represented and is
// dropped by the caller.
import { VIRTIO_NET_HDR as H, VNET } from "../../ffi/layout.ts";

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
  if ((h[ho + H.gsoType] & ~VNET.VIRTIO_NET_HDR_GSO_ECN) !== VNET.VIRTIO_NET_HDR_GSO_NONE) {
    return VnetVerdict.Drop;
  }
  if ((h[ho + H.flags] & VNET.VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0) return VnetVerdict.Plain;
  const start = h[ho + H.csumStart] | (h[ho + H.csumStart + 1] << 8);
  const offset = h[ho + H.csumOffset] | (h[ho + H.csumOffset + 1] << 8);
  return completeChecksum(buf, off, len, start, offset) ? VnetVerdict.Completed : VnetVerdict.Drop;
}
