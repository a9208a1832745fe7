// Receive coalescing on the pass-through paths (zone→zone, underlay→zone, zone→underlay): a
// TCP segment that continues the train queued last for the same link joins it, so a link that
// takes GSO (an offloading TAP, an underlay socket with virtio-net headers) gets one write and
// its kernel one skb per train instead of one per segment of a zone sending without TSO.

import { type FrameBatch, VNET_HDR_LEN } from "../link/link.ts";
import { VirtioNetView } from "../packet/virtio_net.ts";
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

/** Queues rewritten frame `i` of `rx` for `tx`, merged into the train before it when it can. */
export function queueMerged(tx: TxQueue, rx: FrameBatch, i: number, events: Float64Array): void {
  const off = rx.offs[i], len = rx.lens[i];
  if (!isGso(rx, i) && coalesce(tx, rx.bufs[i], off, len)) return void events[EV["gro-merged"]]++;
  tx.push(rx, i, off, len);
}
