// In-process links for tests and the memory platform: two ends of a virtual wire. A frame sent
// on one end is copied into the other end's queue (the sender reuses its buffer at once), can be
// lost or delayed on the way, and wakes anyone waiting for the receiver to become readable.

import {
  FrameBatch,
  HEADROOM,
  type Link,
  type LinkStats,
  newLinkStats,
  type Readiness,
} from "./link.ts";
import { parseMac } from "../packet/bytes.ts";

/** Ethernet header plus one 802.1Q tag: what a frame may carry beyond the MTU. */
const L2_OVERHEAD = 18;

/** Options for one end of a memory wire. */
export interface MemoryLinkOptions {
  name: string;
  /** MAC as text or bytes; a locally administered one is derived from the name when absent. */
  mac?: string | Uint8Array;
  /** Largest IP packet carried; bigger frames are dropped and counted as txDropped. */
  mtu?: number;
  /** Probability (0..1) that a frame sent from this end is lost on the wire. */
  loss?: number;
  /** Milliseconds a frame sent from this end spends on the wire. */
  delayMs?: number;
  /** Frames waiting at the receiver beyond this are dropped (receiver's rxErrors). */
  queueLimit?: number;
  /** Random source for loss; Math.random when absent. */
  rng?: () => number;
  /** Monotonic milliseconds for delay; performance.now when absent. */
  clock?: () => number;
}

/** A frame on the wire: its bytes and when it may be received. */
interface WireFrame {
  data: Uint8Array;
  due: number;
}

/** One end of an in-process wire, implementing `Link`. */
export class MemoryLink implements Link, Readiness {
  readonly kind = "memory";
  readonly fd = -1;
  /** A memory wire is waited on through its own promises (no fd). */
  readonly readiness: Readiness = this;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly stats: LinkStats = newLinkStats();
  /** The other end; null once either end is closed. */
  peer: MemoryLink | null = null;
  loss: number;
  delayMs: number;
  private up = true;
  private closed = false;
  private readonly queue: WireFrame[] = [];
  private head = 0;
  private readonly queueLimit: number;
  private readonly rng: () => number;
  private readonly clock: () => number;
  private waiters = new Set<() => void>();

  constructor(readonly name: string, opts: MemoryLinkOptions) {
    this.mac = macOf(opts.mac, name);
    this.mtu = opts.mtu ?? 1500;
    this.loss = opts.loss ?? 0;
    this.delayMs = opts.delayMs ?? 0;
    this.queueLimit = opts.queueLimit ?? 4096;
    this.rng = opts.rng ?? Math.random;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Receives the frames that are due into `batch`, each at HEADROOM of its buffer. */
  recv(batch: FrameBatch, max = batch.capacity): number {
    const now = this.clock();
    const want = Math.min(max, batch.capacity);
    let n = 0;
    while (n < want && this.head < this.queue.length) {
      const f = this.queue[this.head];
      if (f.due > now) break;
      this.head++;
      const buf = batch.bufs[n];
      if (HEADROOM + f.data.length > buf.length) {
        this.stats.rxErrors++;
        continue;
      }
      buf.set(f.data, HEADROOM);
      batch.offs[n] = HEADROOM;
      batch.lens[n] = f.data.length;
      this.stats.rxFrames++;
      this.stats.rxBytes += f.data.length;
      n++;
    }
    this.compact();
    batch.count = n;
    return n;
  }

  /** Sends frames [0, count) of `batch`; returns how many were accepted. */
  send(batch: FrameBatch, count: number): number {
    let ok = 0;
    for (let i = 0; i < count; i++) {
      if (this.sendFrame(batch.bufs[i], batch.offs[i], batch.lens[i])) ok++;
    }
    return ok;
  }

  /** Copies one frame onto the wire. False when it was dropped here (down, closed, too big). */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    const peer = this.peer;
    if (!this.up || peer === null || len > this.mtu + L2_OVERHEAD) {
      this.stats.txDropped++;
      return false;
    }
    this.stats.txFrames++;
    this.stats.txBytes += len;
    // A lost frame left this end fine; it just never arrives, like on a real wire.
    if (this.loss > 0 && this.rng() < this.loss) return true;
    if (!peer.up) return true;
    peer.enqueue(buf.slice(off, off + len), this.clock() + this.delayMs);
    return true;
  }

  /** Carrier state: false after `setUp(false)`, `close()`, or once the other end is closed. */
  isUp(): boolean {
    return this.up && !this.closed && this.peer !== null;
  }

  /** Sets carrier on this end (a down end neither sends nor receives). */
  setUp(up: boolean): void {
    this.up = up && !this.closed;
    if (!this.up) this.queue.length = this.head = 0;
  }

  /** Detaches both ends and drops queued frames. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.up = false;
    this.queue.length = this.head = 0;
    if (this.peer) this.peer.peer = null;
    this.peer = null;
    this.wake();
  }

  /** Frames waiting (due or not). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** True when a frame can be received now. */
  readable(): boolean {
    return this.head < this.queue.length && this.queue[this.head].due <= this.clock();
  }

  /** Resolves when a frame is receivable or after `timeoutMs`; true when readable. */
  waitReadable(timeoutMs: number): Promise<boolean> {
    return waitAny([this], timeoutMs);
  }

  /** Test helper: sends a whole frame from this end. */
  inject(frame: Uint8Array): boolean {
    return this.sendFrame(frame, 0, frame.length);
  }

  /** Test helper: removes and returns every frame due at this end, as copies. */
  take(): Uint8Array[] {
    const now = this.clock();
    const out: Uint8Array[] = [];
    while (this.head < this.queue.length && this.queue[this.head].due <= now) {
      const f = this.queue[this.head++];
      this.stats.rxFrames++;
      this.stats.rxBytes += f.data.length;
      out.push(f.data);
    }
    this.compact();
    return out;
  }

  private enqueue(data: Uint8Array, due: number): void {
    if (!this.up) return;
    if (this.queue.length - this.head >= this.queueLimit) {
      this.stats.rxErrors++;
      return;
    }
    this.queue.push({ data, due });
    this.wake();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The time the head frame becomes due, or Infinity when nothing waits. */
  nextDue(): number {
    return this.head < this.queue.length ? this.queue[this.head].due : Infinity;
  }

  /** Registers a one-shot callback run on the next enqueue or close; returns its remover. */
  onWake(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** The clock this end measures delay with. */
  now(): number {
    return this.clock();
  }
}

/** Builds both ends of a wire; each side's loss/delay applies to frames it sends. */
export function memoryPair(
  a: MemoryLinkOptions,
  b: MemoryLinkOptions,
): [MemoryLink, MemoryLink] {
  const x = new MemoryLink(a.name, a), y = new MemoryLink(b.name, b);
  x.peer = y;
  y.peer = x;
  return [x, y];
}

/**
 * Resolves true as soon as any of `links` can receive (including frames whose delay elapses
 * before the timeout), or false after `timeoutMs`.
 */
export function waitAny(links: readonly Readiness[], timeoutMs: number): Promise<boolean> {
  for (const l of links) if (l.readable()) return Promise.resolve(true);
  return new Promise((resolve) => {
    let done = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const removers: (() => void)[] = [];
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      for (const r of removers) r();
      resolve(v);
    };
    timers.push(setTimeout(() => finish(links.some((l) => l.readable())), timeoutMs));
    // A timer may fire a little before the link's clock reaches `due` (timers have millisecond
    // granularity, the clock does not), so a fired timer checks again rather than trusting it.
    const arm = (l: Readiness) => {
      const due = l.nextDue();
      if (done || due === Infinity) return;
      const wait = due - l.now();
      if (wait <= 0) finish(true);
      else if (wait < timeoutMs) timers.push(setTimeout(() => arm(l), Math.ceil(wait)));
    };
    for (const l of links) {
      arm(l);
      removers.push(l.onWake(() => arm(l)));
    }
  });
}

/** A batch sized for memory tests (small frames keep the test process light). */
export function smallBatch(capacity = 32, frameSize = 16384 + HEADROOM): FrameBatch {
  return new FrameBatch(capacity, frameSize);
}

function macOf(m: string | Uint8Array | undefined, name: string): Uint8Array {
  if (m instanceof Uint8Array) return m.slice(0, 6);
  if (typeof m === "string") {
    const p = parseMac(m);
    if (!p) throw new Error(`memory link ${name}: "${m}" is not a MAC address`);
    return p;
  }
  // Stable per name: 02 (locally administered, unicast) followed by a name hash.
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return Uint8Array.of(0x02, 0x00, h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff);
}
