// PACKET_MMAP TPACKET_V3 receive ring, read in place through an ArrayBuffer over the mapping.
// The kernel fills whole blocks and hands them over by setting TP_STATUS_USER in the block
// header; we copy frames out into the batch and return the block with TP_STATUS_KERNEL.
import { C, TPACKET3_HDR, TPACKET_BLOCK_DESC, TPACKET_REQ3 } from "../../ffi/layout.ts";
import { errno, libc, SysError } from "../../ffi/libc.ts";
import { FrameBatch, HEADROOM, type LinkStats, VNET_HDR_LEN } from "./link.ts";
import { resolveVnet, VnetVerdict } from "../packet/virtio_net.ts";

const MAP_FAILED = 0xffffffffffffffffn;

/** A mapped TPACKET_V3 rx ring on packet socket `fd` (PACKET_VERSION must already be V3). */
export class TpacketRing {
  readonly size: number;
  private readonly map: Deno.PointerObject;
  private readonly ring: Uint8Array;
  private readonly w: Uint32Array;
  private block = 0;
  /** Frames left in the current block, or -1 when the block has not been opened yet. */
  private left = -1;
  private at = 0;
  private closed = false;

  /** `vnet`: PACKET_VNET_HDR is on, so a virtio-net header precedes each frame in the ring. */
  constructor(
    fd: number,
    readonly blockSize: number,
    readonly blockCount: number,
    readonly vnet = false,
    retireMs = 1,
  ) {
    const frameSize = 2048;
    const req = new Uint8Array(TPACKET_REQ3.size);
    const dv = new DataView(req.buffer);
    dv.setUint32(TPACKET_REQ3.blockSize, blockSize, true);
    dv.setUint32(TPACKET_REQ3.blockNr, blockCount, true);
    dv.setUint32(TPACKET_REQ3.frameSize, frameSize, true);
    dv.setUint32(TPACKET_REQ3.frameNr, (blockSize / frameSize) * blockCount, true);
    dv.setUint32(TPACKET_REQ3.retireBlkTov, retireMs, true);
    if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_RX_RING, req, req.length) < 0) {
      throw new SysError("setsockopt", errno(), "PACKET_RX_RING");
    }
    this.size = blockSize * blockCount;
    const p = libc.mmap(null, BigInt(this.size), C.PROT_READ | C.PROT_WRITE, C.MAP_SHARED, fd, 0n);
    if (p === null || Deno.UnsafePointer.value(p) === MAP_FAILED) {
      throw new SysError("mmap", errno(), "PACKET_RX_RING");
    }
    this.map = p;
    this.ring = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, this.size));
    this.w = new Uint32Array(this.ring.buffer);
  }

  /** Copies ready frames into `batch` from index 0; returns the count. */
  recv(batch: FrameBatch, stats: LinkStats): number {
    if (this.closed) return 0;
    const w = this.w, ring = this.ring;
    let n = 0;
    while (n < batch.capacity) {
      const base = this.block * this.blockSize;
      if (this.left < 0) {
        if ((w[(base + TPACKET_BLOCK_DESC.blockStatus) >> 2] & C.TP_STATUS_USER) === 0) break;
        this.left = w[(base + TPACKET_BLOCK_DESC.numPkts) >> 2];
        this.at = base + w[(base + TPACKET_BLOCK_DESC.offsetToFirstPkt) >> 2];
      }
      while (this.left > 0 && n < batch.capacity) {
        const h = this.at;
        const snap = w[(h + TPACKET3_HDR.snaplen) >> 2];
        const wire = w[(h + TPACKET3_HDR.len) >> 2];
        const mac = ring[h + TPACKET3_HDR.mac] | (ring[h + TPACKET3_HDR.mac + 1] << 8);
        const buf = batch.bufs[n];
        if (snap !== wire || snap > buf.length - HEADROOM) stats.rxErrors++;
        else {
          buf.set(ring.subarray(h + mac, h + mac + snap), HEADROOM);
          let ok = true;
          if (this.vnet) {
            const vh = batch.vnet, at = h + mac - VNET_HDR_LEN;
            if (vh) vh.set(ring.subarray(at, at + VNET_HDR_LEN), n * VNET_HDR_LEN);
            else ok = resolveVnet(ring, at, buf, HEADROOM, snap) !== VnetVerdict.Drop;
          }
          if (ok) {
            batch.offs[n] = HEADROOM;
            batch.lens[n] = snap;
            stats.rxFrames++;
            stats.rxBytes += snap;
            n++;
          } else stats.rxErrors++; // a GSO super-frame the consumer cannot carry
        }
        this.at = h + w[(h + TPACKET3_HDR.nextOffset) >> 2];
        this.left--;
      }
      if (this.left === 0) {
        w[(base + TPACKET_BLOCK_DESC.blockStatus) >> 2] = C.TP_STATUS_KERNEL;
        this.block = (this.block + 1) % this.blockCount;
        this.left = -1;
      }
    }
    return n;
  }

  /** True when a retired block waits (no syscall). Frames of the open block stay unseen. */
  pending(): boolean {
    if (this.closed) return false;
    if (this.left > 0) return true;
    const base = this.block * this.blockSize;
    return (this.w[(base + TPACKET_BLOCK_DESC.blockStatus) >> 2] & C.TP_STATUS_USER) !== 0;
  }

  /** Unmaps the ring; later `recv` calls return 0. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.munmap(this.map, BigInt(this.size));
  }
}
