// The one interface the switch sees for every way frames enter and leave xdeno
// (TAP, packet socket, DLPI, memory). Backends live beside this file.

/** Bytes of space kept in front of each received frame so encapsulation can prepend in place. */
export const HEADROOM = 128;
/** Largest frame a backend hands over (GSO super-frames included). */
export const MAX_FRAME = 65536 + 256;

/** A reusable vector of frames: frame i is `bufs[i].subarray(offs[i], offs[i] + lens[i])`. */
export class FrameBatch {
  count = 0;
  readonly bufs: Uint8Array[];
  readonly offs: Int32Array;
  readonly lens: Int32Array;

  constructor(readonly capacity: number, frameSize = MAX_FRAME + HEADROOM) {
    this.bufs = Array.from({ length: capacity }, () => new Uint8Array(frameSize));
    this.offs = new Int32Array(capacity).fill(HEADROOM);
    this.lens = new Int32Array(capacity);
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

/** A frame source and sink. Calls never block and never throw on I/O errors (they count). */
export interface Link {
  readonly name: string;
  /** Backend name: "tap", "packet", "dlpi", "memory". */
  readonly kind: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** A file descriptor that becomes readable when frames wait, or -1. */
  readonly fd: number;
  readonly stats: LinkStats;
  /** Receives up to `batch.capacity` frames into `batch` (from index 0); returns the count. */
  recv(batch: FrameBatch): number;
  /** Sends frames [0, count) of `batch`; returns how many were accepted. */
  send(batch: FrameBatch, count: number): number;
  /** Sends one frame. Returns false when it was dropped. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean;
  /** Carrier/operational state as last observed. */
  isUp(): boolean;
  /** Releases every resource the link holds. Idempotent. */
  close(): void;
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
