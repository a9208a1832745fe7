// The one interface the switch sees for every way frames enter and leave xdeno
// (TAP, packet socket, DLPI, memory). Backends live beside this file.

import { VIRTIO_NET_HDR_LEN } from "../packet/virtio_net.ts";
import { frameBuffer } from "../packet/slab.ts";

/** Bytes of space kept in front of each received frame so encapsulation can prepend in place. */
export const HEADROOM = 128;
/** Largest frame a backend hands over (GSO super-frames included). */
export const MAX_FRAME = 65536 + 256;

/** Size of the virtio-net header (struct virtio_net_hdr) that offload-capable links exchange. */
export const VNET_HDR_LEN = VIRTIO_NET_HDR_LEN;
/** Most slots that may continue one frame of a train (see `FrameBatch.joins`). */
export const MAX_JOINS = 63;

/** A reusable vector of frames: frame i is `bufs[i].subarray(offs[i], offs[i] + lens[i])`. */
export class FrameBatch {
  count = 0;
  readonly bufs: Uint8Array[];
  readonly offs: Int32Array;
  readonly lens: Int32Array;
  /**
   * Per-frame virtio-net headers (VNET_HDR_LEN bytes at i * VNET_HDR_LEN), when requested:
   * links opened with `vnetHdr` fill them on receive (checksum/GSO state of a super-frame) and
   * send them along. Null: such links complete checksums themselves and drop GSO frames.
   */
  readonly vnet: Uint8Array | null;
  /**
   * Trains, on batches built for a link that gathers (`Link.gather`): `joins[i]` slots after
   * frame `i` continue it (their bytes follow its own on the wire: one frame written from
   * several buffers, no copy); those slots are no frames of their own. Null: every slot is one.
   */
  readonly joins: Uint8Array | null;

  constructor(
    readonly capacity: number,
    frameSize = MAX_FRAME + HEADROOM,
    opts: { vnet?: boolean; joins?: boolean } = {},
  ) {
    // From shared slabs: a copy between two frames is then one memmove (lib/packet/slab.ts).
    this.bufs = Array.from({ length: capacity }, () => frameBuffer(frameSize));
    this.offs = new Int32Array(capacity).fill(HEADROOM);
    this.lens = new Int32Array(capacity);
    this.vnet = opts.vnet ? new Uint8Array(capacity * VNET_HDR_LEN) : null;
    this.joins = opts.joins ? new Uint8Array(capacity) : null;
  }
}

/** A link's counters, read by the admin API and metrics. */
export interface LinkStats {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  txDropped: number;
}

/**
 * How to wait for a link that has no file descriptor to poll (in-process wires): the switch's
 * waiter asks it directly instead of poll(2).
 */
export interface Readiness {
  /** True when a frame can be received now. */
  readable(): boolean;
  /** When the head frame becomes receivable on `now()`'s clock; Infinity when nothing waits. */
  nextDue(): number;
  /** The clock `nextDue` is measured on (ms). */
  now(): number;
  /** Registers a one-shot callback run on the next arrival or close; returns its remover. */
  onWake(fn: () => void): () => void;
}

/**
 * A frame source and sink. Calls never block and never throw on I/O errors (they count).
 * What a backend can do beyond that is said by capability fields (`vnet`, `readiness`), never by
 * its class, so a wrapper that forwards them (the capture wrapper) is transparent to the switch.
 */
export interface Link {
  readonly name: string;
  /** Backend name: "tap", "packet", "dlpi", "memory". */
  readonly kind: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** A file descriptor that becomes readable when frames wait, or -1. */
  readonly fd: number;
  readonly stats: LinkStats;
  /**
   * True when frames carry virtio-net headers both ways (links opened with them): `send` then
   * takes GSO frames and partial checksums (`takesGso`). What `recv` may hand over is the
   * backend's own setting (a TAP's `offload`: a zone without offload sends plain frames).
   */
  readonly vnet?: boolean;
  /** Set by links without an fd (memory wires): what the waiter waits on instead of poll(2). */
  readonly readiness?: Readiness;
  /**
   * True when `send` takes trains (`FrameBatch.joins`): it writes a frame and the slots that
   * continue it as one frame, and counts them all as accepted or not.
   */
  readonly gather?: boolean;
  /**
   * True when `recv` honours `max` and looks no further: one syscall per frame, so only a read
   * that finds nothing tells the device is empty (TAP). The loop then reads a lone frame, sends
   * it on, and leaves that empty read for its next pass.
   */
  readonly boundedRecv?: boolean;
  /**
   * Receives up to `max` (default and at most `batch.capacity`) frames into `batch` (from index
   * 0); returns the count. Links without `boundedRecv` may read the whole batch regardless.
   */
  recv(batch: FrameBatch, max?: number): number;
  /** Sends frames [0, count) of `batch`; returns how many were accepted. */
  send(batch: FrameBatch, count: number): number;
  /** Sends one frame. Returns false when it was dropped. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean;
  /** Carrier/operational state as last observed. */
  isUp(): boolean;
  /** Releases every resource the link holds. Idempotent. */
  close(): void;
}

/**
 * True when `link` accepts GSO frames and partial checksums on send: any link with virtio-net
 * headers, including a TAP whose zone has offload off (its kernel receives them like a
 * GRO-merged skb; TUNSETOFFLOAD only governs what the zone may hand over).
 */
export function takesGso(link: Link): boolean {
  return link.vnet === true;
}

/** A fresh zeroed stats record. */
export function newLinkStats(): LinkStats {
  return {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    rxErrors: 0,
    txErrors: 0,
    txDropped: 0,
  };
}

/**
 * A datapath loop's idle wait: up to `timeoutMs` for a frame on any link. `marksReady`: it also
 * records in the loop's `readyFlags()` which polled links are readable (lib/link/wait.ts does).
 */
export type LinkWait = ((timeoutMs: number) => Promise<unknown> | unknown) & {
  marksReady?: boolean;
};
