// Receive coalescing on the pass-through paths (zone→zone, underlay→zone, zone→underlay): a
// TCP segment that continues the train queued last for the same link joins it, so a link that
// takes GSO (a TAP, offload or not; an underlay socket with virtio-net headers) gets one write
// and its kernel one skb per train instead of one per segment of a zone sending without TSO.

import { type FrameBatch, VNET_HDR_LEN } from "../link/link.ts";
import { VirtioNetView, VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM } from "../packet/virtio_net.ts";
import { coalesce } from "./coalesce.ts";
import { EV } from "./counters.ts";
import type { TxQueue } from "./txq.ts";

/** One reused view of a frame's virtio-net header (the datapath is single-threaded). */
const VH = new VirtioNetView(new Uint8Array(0), 0);

/** True when frame `i` of `rx` is a GSO super-frame (segmented later by the kernel). */
export function isGso(rx: FrameBatch, i: number): boolean {
  const v = rx.vnet;
  return v !== null && VH.reset(v, i * VNET_HDR_LEN).isGso;
}

/**
 * True when frame `i` may join a train: not a GSO frame, and, from the wire, with a checksum the
 * kernel verified or will compute (the merged frame's checksum is left partial, so the receiver
 * never checks the segment's own; a zone's frames cross memory only).
 */
function mergeable(rx: FrameBatch, i: number, fromWire: boolean): boolean {
  const v = rx.vnet;
  if (v === null) return !fromWire;
  const h = VH.reset(v, i * VNET_HDR_LEN);
  return !h.isGso && (!fromWire || (h.flags & (VNET_F_DATA_VALID | VNET_F_NEEDS_CSUM)) !== 0);
}

/** Queues rewritten frame `i` of `rx` for `tx`, merged into the train before it when it can. */
export function queueMerged(
  tx: TxQueue,
  rx: FrameBatch,
  i: number,
  events: Float64Array,
  fromWire = false,
): void {
  const off = rx.offs[i], len = rx.lens[i];
  if (!mergeable(rx, i, fromWire)) return tx.push(rx, i, off, len);
  if (coalesce(tx, rx.bufs[i], off, len, 0, rx, i)) return void events[EV["gro-merged"]]++;
  tx.push(rx, i, off, len);
  // A checked segment may head a train (a head must carry no flags); its checksum is complete,
  // so the receiver simply checks it again when nothing joins.
  const q = tx.batch, v = q.vnet;
  if (v !== null && v[(q.count - 1) * VNET_HDR_LEN] === VNET_F_DATA_VALID) {
    v[(q.count - 1) * VNET_HDR_LEN] = 0;
  }
}
