// A pcap tap on any Link: wraps it, and while taps are attached copies received and sent frames
// into writers (PcapWriter from lib/packet/pcap.ts). Without taps the wrapper only adds one
// length check per call. Used by the admin capture endpoint.
import type { FrameBatch, Link, LinkStats } from "./link.ts";

/** What a tap writes into: `PcapWriter` satisfies it. */
export interface FrameWriter {
  writeFrame(buf: Uint8Array, off: number, len: number, timeMicros?: number): void;
}

/** Which frames a tap sees: received from the wire ("rx"), sent to it ("tx"), or both. */
export type CaptureDirection = "rx" | "tx" | "both";

/** Tap options: direction, and a frame budget after which the tap detaches itself. */
export interface TapOptions {
  direction?: CaptureDirection;
  maxFrames?: number;
  /** Called once when the tap detaches (budget reached or detach called). */
  onDone?: () => void;
}

interface Tap {
  writer: FrameWriter;
  rx: boolean;
  tx: boolean;
  left: number;
  onDone?: () => void;
}

/** A Link that forwards to `inner` and feeds attached taps. */
export class CaptureLink implements Link {
  private taps: Tap[] = [];

  constructor(readonly inner: Link) {}

  get name(): string {
    return this.inner.name;
  }
  get kind(): string {
    return this.inner.kind;
  }
  get mac(): Uint8Array {
    return this.inner.mac;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get fd(): number {
    return this.inner.fd;
  }
  get stats(): LinkStats {
    return this.inner.stats;
  }

  /** Number of attached taps. */
  get tapCount(): number {
    return this.taps.length;
  }

  /** Attaches a tap; returns a function that detaches it (idempotent). */
  tap(writer: FrameWriter, o: TapOptions = {}): () => void {
    const d = o.direction ?? "both";
    const t: Tap = {
      writer,
      rx: d !== "tx",
      tx: d !== "rx",
      left: o.maxFrames ?? Infinity,
      onDone: o.onDone,
    };
    this.taps = [...this.taps, t];
    return () => this.detach(t);
  }

  private detach(t: Tap): void {
    if (!this.taps.includes(t)) return;
    this.taps = this.taps.filter((x) => x !== t);
    t.onDone?.();
  }

  private feed(rx: boolean, buf: Uint8Array, off: number, len: number, now: number): void {
    for (const t of this.taps) {
      if ((rx ? !t.rx : !t.tx) || t.left <= 0) continue;
      t.writer.writeFrame(buf, off, len, now);
      if (--t.left <= 0) this.detach(t);
    }
  }

  private static now(): number {
    return Math.round((performance.timeOrigin + performance.now()) * 1000);
  }

  /** Receives through the inner link, then shows the frames to rx taps. */
  recv(batch: FrameBatch): number {
    const n = this.inner.recv(batch);
    if (this.taps.length === 0 || n === 0) return n;
    const now = CaptureLink.now();
    for (let i = 0; i < n; i++) this.feed(true, batch.bufs[i], batch.offs[i], batch.lens[i], now);
    return n;
  }

  /** Shows the frames to tx taps (before the inner link may reuse them), then sends. */
  send(batch: FrameBatch, count: number): number {
    if (this.taps.length !== 0) {
      const now = CaptureLink.now();
      for (let i = 0; i < count; i++) {
        this.feed(false, batch.bufs[i], batch.offs[i], batch.lens[i], now);
      }
    }
    return this.inner.send(batch, count);
  }

  /** Sends one frame, tapped. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    if (this.taps.length !== 0) this.feed(false, buf, off, len, CaptureLink.now());
    return this.inner.sendFrame(buf, off, len);
  }

  /** The inner link's state. */
  isUp(): boolean {
    return this.inner.isUp();
  }

  /** Detaches every tap and closes the inner link. */
  close(): void {
    for (const t of [...this.taps]) this.detach(t);
    this.inner.close();
  }
}
