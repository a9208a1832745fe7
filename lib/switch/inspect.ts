// Read-only views of a running switch for the admin API: underlay links, neighbour caches,
// capture queues fed by the capture wrapper every switch link has (traces: trace.ts).

import type { CaptureLink } from "../link/capture.ts";
import { ipv6ToString, macToString } from "../packet/bytes.ts";
import { NEIGH_FAILED, NEIGH_REACHABLE } from "./neighbor.ts";
import type { Switch } from "./switch.ts";

const STATE_NAMES: Record<number, string> = {
  [NEIGH_REACHABLE]: "reachable",
  [NEIGH_FAILED]: "failed",
};

/** Every underlay link with its carrier state, MTU and link-local address. */
export function underlayLinkRows(sw: Switch): Record<string, unknown>[] {
  return sw.underlay.map((u) => ({
    name: u.link.name,
    kind: u.link.kind,
    up: u.link.isUp(),
    mtu: u.link.mtu,
    linkLocal: ipv6ToString(u.linkLocal),
    neighbours: u.neighbors.list.length,
  }));
}

/** Every neighbour cache entry of every underlay link. */
export function neighbourRows(sw: Switch, now = performance.now()): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const u of sw.underlay) {
    for (const n of u.neighbors.list) {
      out.push({
        link: u.link.name,
        address: ipv6ToString(n.addr),
        mac: n.hasMac ? macToString(n.mac) : null,
        state: STATE_NAMES[n.state] ?? "incomplete",
        routes: n.refs,
        confirmedMsAgo: Number.isFinite(n.confirmed) ? Math.round(now - n.confirmed) : null,
      });
    }
  }
  return out;
}

/** One batch of captured frames as it crosses to the admin thread. */
export interface CaptureChunk {
  /** Frame bytes back to back. */
  data: Uint8Array;
  /** Per frame: length in `data`, then capture time in µs since the epoch (pairs). */
  meta: Float64Array;
  /** Frames dropped since the previous chunk (queue full: the reader is slow). */
  dropped: number;
  /** True on the last chunk of the capture. */
  done: boolean;
}

/** Bytes of frames a capture queue buffers before it drops. */
export const CAPTURE_MAX_BYTES = 4 << 20;
/** Chunks posted but not yet acknowledged before a capture queue stops posting. */
export const CAPTURE_MAX_INFLIGHT = 8;
const SNAPLEN = 65535;

/**
 * Buffers copies of tapped frames and hands them on in chunks (each postMessage costs a few µs,
 * so one per frame would slow the datapath). When the reader lags — too many chunks
 * unacknowledged and the buffer full — frames are dropped and counted instead of queued.
 */
export class CaptureQueue {
  private frames: Uint8Array[] = [];
  private times: number[] = [];
  private bytes = 0;
  private dropped = 0;
  private inflight = 0;
  private left: number;
  private finished = false;
  private detach: (() => void) | null = null;

  /** `post` delivers a chunk; `maxFrames` 0 means unlimited. */
  constructor(private readonly post: (c: CaptureChunk) => void, maxFrames: number) {
    this.left = maxFrames > 0 ? maxFrames : Infinity;
  }

  /** Attaches the queue to `link` for the given directions. */
  attach(link: CaptureLink, rx: boolean, tx: boolean): void {
    this.detach = link.attach((isRx, buf, off, len, t) => {
      if (isRx ? rx : tx) this.push(buf, off, len, t);
    });
  }

  private push(buf: Uint8Array, off: number, len: number, timeMicros: number): void {
    if (this.finished) return;
    if (this.bytes + len > CAPTURE_MAX_BYTES) {
      this.dropped++;
      return;
    }
    const n = Math.min(len, SNAPLEN);
    this.frames.push(buf.slice(off, off + n));
    this.times.push(timeMicros);
    this.bytes += n;
    if (--this.left <= 0) this.finish();
  }

  /** Sends what is buffered, unless too many chunks await acknowledgement. */
  flush(): void {
    if (this.inflight >= CAPTURE_MAX_INFLIGHT && !this.finished) return;
    if (this.frames.length === 0 && this.dropped === 0 && !this.finished) return;
    const data = new Uint8Array(this.bytes);
    const meta = new Float64Array(this.frames.length * 2);
    let o = 0;
    this.frames.forEach((f, i) => {
      data.set(f, o);
      o += f.length;
      meta[2 * i] = f.length;
      meta[2 * i + 1] = this.times[i];
    });
    const c: CaptureChunk = { data, meta, dropped: this.dropped, done: this.finished };
    this.frames = [];
    this.times = [];
    this.bytes = 0;
    this.dropped = 0;
    this.inflight++;
    this.post(c);
  }

  /** The reader consumed one chunk. */
  ack(): void {
    if (this.inflight > 0) this.inflight--;
  }

  /** True once the capture ended (budget reached or stopped). */
  get done(): boolean {
    return this.finished;
  }

  /** Detaches the tap; the next flush sends the last chunk. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.detach?.();
    this.detach = null;
  }
}
