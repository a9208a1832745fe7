// PACKET_MMAP TPACKET_V2 receive ring: fixed-size frame slots, each with its own status word.
// Unlike TPACKET_V3 (whose poll(2) only wakes when a whole block retires, ≥ 1 ms later), the
// kernel marks every V2 frame TP_STATUS_USER and wakes poll at once, so a lone frame costs a
// wake-up, not a block timer, while a burst is still read in place without a syscall per frame.
// Slots are sized for MTU frames; a larger frame (a GSO super-frame with vnet headers) is
// flagged TP_STATUS_COPY and read whole from the socket queue (PACKET_COPY_THRESH).
import { C, TPACKET2_HDR, TPACKET_REQ } from "../../ffi/layout.ts";
import { errno, libc, SysError } from "../../ffi/libc.ts";
import { FrameBatch, HEADROOM, type LinkStats, VNET_HDR_LEN } from "./link.ts";
import { MmsgVec } from "./mmsg.ts";
import { resolveVnet, VnetVerdict } from "../packet/virtio_net.ts";
import { UdpL4Pieces } from "./uso_rx.ts";

const MAP_FAILED = 0xffffffffffffffffn;
const PAGE = 4096;
// 64 KiB blocks: an order-4 allocation, small enough to be found on a fragmented host
const BLOCK = 65536;
// tpacket2_hdr + sockaddr_ll + alignment slack in front of the frame bytes of a slot
const SLOT_OVERHEAD = 96;

/** Geometry of a V2 ring: slot size, slots per page-multiple block, and block count. */
export interface FrameRingGeometry {
  frameSize: number;
  blockSize: number;
  blockCount: number;
}

/**
 * A geometry for at least `frames` slots of frames up to `maxFrame` bytes (plus a virtio-net
 * header with `vnet`). Slots never straddle blocks; the tail of a block that holds no whole slot
 * stays unused. `blockSize` overrides the block (the kernel rejects a non page multiple).
 */
export function frameRingGeometry(
  maxFrame: number,
  frames: number,
  vnet: boolean,
  blockSize?: number,
): FrameRingGeometry {
  // TPACKET_ALIGNMENT is 16; no power-of-two rounding, so a 1500 MTU slot is 1632 B, not 2048
  const frameSize = Math.ceil((maxFrame + SLOT_OVERHEAD + (vnet ? VNET_HDR_LEN : 0)) / 16) * 16;
  const block = blockSize ?? Math.max(BLOCK, Math.ceil(frameSize / PAGE) * PAGE);
  const perBlock = Math.max(1, Math.floor(block / frameSize));
  return { frameSize, blockSize: block, blockCount: Math.max(1, Math.ceil(frames / perBlock)) };
}

/** A mapped TPACKET_V2 rx ring on packet socket `fd` (PACKET_VERSION must already be V2). */
export class FrameRing {
  readonly size: number;
  readonly frameSize: number;
  readonly perBlock: number;
  readonly frameCount: number;
  private readonly map: Deno.PointerObject;
  private readonly ring: Uint8Array;
  private readonly w: Uint32Array;
  // the next slot: its index, its byte offset, and its index within its block
  private slot = 0;
  private at = 0;
  private inBlock = 0;
  private readonly big: MmsgVec;
  private readonly spare = new Uint8Array(VNET_HDR_LEN);
  /** UDP_L4 frames cut into datagrams for a batch without headers (made on the first one). */
  private pieces: UdpL4Pieces | null = null;
  private closed = false;

  /** `vnet`: PACKET_VNET_HDR is on, so a virtio-net header precedes each frame in its slot. */
  constructor(private readonly fd: number, readonly g: FrameRingGeometry, readonly vnet = false) {
    this.frameSize = g.frameSize;
    this.perBlock = Math.floor(g.blockSize / g.frameSize);
    this.frameCount = this.perBlock * g.blockCount;
    const req = new Uint8Array(TPACKET_REQ.size);
    const dv = new DataView(req.buffer);
    dv.setUint32(TPACKET_REQ.blockSize, g.blockSize, true);
    dv.setUint32(TPACKET_REQ.blockNr, g.blockCount, true);
    dv.setUint32(TPACKET_REQ.frameSize, g.frameSize, true);
    dv.setUint32(TPACKET_REQ.frameNr, this.frameCount, true);
    if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_RX_RING, req, req.length) < 0) {
      throw new SysError("setsockopt", errno(), "PACKET_RX_RING");
    }
    // frames too large for a slot are queued whole on the socket, flagged TP_STATUS_COPY
    const one = Uint8Array.of(1, 0, 0, 0);
    libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_COPY_THRESH, one, 4);
    this.size = g.blockSize * g.blockCount;
    const p = libc.mmap(null, BigInt(this.size), C.PROT_READ | C.PROT_WRITE, C.MAP_SHARED, fd, 0n);
    if (p === null || Deno.UnsafePointer.value(p) === MAP_FAILED) {
      throw new SysError("mmap", errno(), "PACKET_RX_RING");
    }
    this.map = p;
    this.ring = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, this.size));
    this.w = new Uint32Array(this.ring.buffer);
    this.big = new MmsgVec(1, vnet ? 2 : 1);
  }

  /** Copies ready frames into `batch` from index 0 and hands their slots back; the count. */
  recv(batch: FrameBatch, stats: LinkStats): number {
    if (this.closed) return 0;
    const w = this.w, ring = this.ring;
    let n = this.pieces?.pending ? this.pieces.drain(batch, 0, stats) : 0;
    while (n < batch.capacity) {
      const h = this.at;
      const st = w[(h + TPACKET2_HDR.status) >> 2];
      if ((st & C.TP_STATUS_USER) === 0) break;
      const buf = batch.bufs[n];
      let len = -1;
      if (st & C.TP_STATUS_COPY && this.vnet && !batch.vnet) {
        if (this.recvPieces()) {
          n = this.pieces!.drain(batch, n, stats);
          len = -2;
        }
      } else if (st & C.TP_STATUS_COPY) len = this.recvWhole(batch, n);
      else {
        const snap = w[(h + TPACKET2_HDR.snaplen) >> 2];
        const wire = w[(h + TPACKET2_HDR.len) >> 2];
        const mac = ring[h + TPACKET2_HDR.mac] | (ring[h + TPACKET2_HDR.mac + 1] << 8);
        if (snap === wire && snap <= buf.length - HEADROOM) {
          buf.set(ring.subarray(h + mac, h + mac + snap), HEADROOM);
          len = snap;
          if (this.vnet) {
            const vh = batch.vnet, v = h + mac - VNET_HDR_LEN;
            if (vh) vh.set(ring.subarray(v, v + VNET_HDR_LEN), n * VNET_HDR_LEN);
            else if (resolveVnet(ring, v, buf, HEADROOM, snap) === VnetVerdict.Drop) len = -1;
          }
        }
      }
      if (len >= 0) {
        batch.offs[n] = HEADROOM;
        batch.lens[n] = len;
        stats.rxFrames++;
        stats.rxBytes += len;
        n++;
      } else if (len === -1) stats.rxErrors++; // truncated, or a GSO frame it cannot carry
      // the frame is copied out: the slot belongs to the kernel again
      w[(h + TPACKET2_HDR.status) >> 2] = C.TP_STATUS_KERNEL;
      this.advance();
    }
    return n;
  }

  private advance(): void {
    if (++this.slot === this.frameCount) {
      this.slot = this.at = this.inBlock = 0;
    } else if (++this.inBlock === this.perBlock) {
      this.inBlock = 0;
      this.at = (this.slot / this.perBlock) * this.g.blockSize;
    } else this.at += this.frameSize;
  }

  /** Reads a TP_STATUS_COPY frame from the socket queue into batch slot `n`; its length or -1. */
  private recvWhole(batch: FrameBatch, n: number): number {
    const v = this.big, buf = batch.bufs[n];
    v.set(0, buf, HEADROOM, buf.length - HEADROOM);
    const vh = batch.vnet ?? this.spare, vo = batch.vnet ? n * VNET_HDR_LEN : 0;
    if (this.vnet) v.setHeader(0, vh, vo, VNET_HDR_LEN);
    if (libc.recvmmsg(this.fd, v.ptr, 1, C.MSG_DONTWAIT, null) !== 1) return -1;
    const len = v.len(0) - (this.vnet ? VNET_HDR_LEN : 0);
    if (v.flags(0) & C.MSG_TRUNC || len < 0) return -1;
    if (this.vnet && !batch.vnet) {
      if (resolveVnet(vh, vo, buf, HEADROOM, len) === VnetVerdict.Drop) return -1;
    }
    return len;
  }

  /**
   * Reads a TP_STATUS_COPY frame for a batch without headers; true when it is a UDP_L4 frame
   * whose datagrams now wait in `pieces`. Any other frame is dropped (the caller counts it): it
   * is larger than a slot, so a GSO frame such a batch cannot carry.
   */
  private recvPieces(): boolean {
    const p = this.pieces ??= new UdpL4Pieces(), v = this.big;
    v.set(0, p.buf, 0, p.buf.length);
    v.setHeader(0, this.spare, 0, VNET_HDR_LEN);
    if (libc.recvmmsg(this.fd, v.ptr, 1, C.MSG_DONTWAIT, null) !== 1) return false;
    const len = v.len(0) - VNET_HDR_LEN;
    return (v.flags(0) & C.MSG_TRUNC) === 0 && len > 0 && p.load(this.spare, 0, len);
  }

  /** True when the next slot holds a frame (no syscall: lets a loop skip poll(2)). */
  pending(): boolean {
    if (this.closed) return false;
    if (this.pieces?.pending) return true;
    return (this.w[(this.at + TPACKET2_HDR.status) >> 2] & C.TP_STATUS_USER) !== 0;
  }

  /** Unmaps the ring; later `recv` calls return 0. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.munmap(this.map, BigInt(this.size));
  }
}
