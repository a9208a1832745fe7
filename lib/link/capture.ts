// The capture wrapper around any Link (smoltcp's phy::Tracer idea): it forwards every call to
// the inner link and, while taps are attached, shows them the frames received and sent. The
// switch wraps each link once when the link joins it, so captures attach and detach without
// touching the links or the loop's call sites; idle, the wrapper costs one null check per call.
import { type FrameBatch, type Link, type LinkStats, MAX_FRAME, type Readiness } from "./link.ts";

/**
 * Sees one tapped frame: `rx` true when received, false when sent; `timeMicros` is the capture
 * time (µs since the epoch, one reading per batch). The bytes are the link's: copy what you keep.
 */
export type TapSink = (
  rx: boolean,
  buf: Uint8Array,
  off: number,
  len: number,
  timeMicros: number,
) => void;

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

function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A Link that forwards to `inner` and shows its frames to attached taps. */
export class CaptureLink implements Link {
  /** Attached sinks; replaced, never mutated, so a sink may detach while frames are shown. */
  private sinks: readonly TapSink[] = [];
  /** Null while nothing is attached: the one branch the datapath pays when idle. */
  private sink: TapSink | null = null;
  private readonly closers = new Map<TapSink, () => void>();
  /** Where a train is put together for the taps (made on the first tapped train). */
  private train: Uint8Array | null = null;
  private trainLen = 0;

  // Fixed when a link opens: copied so the datapath's per-frame reads stay plain field loads.
  readonly name: string;
  readonly kind: string;
  readonly mac: Uint8Array;
  readonly mtu: number;

  constructor(readonly inner: Link) {
    this.name = inner.name;
    this.kind = inner.kind;
    this.mac = inner.mac;
    this.mtu = inner.mtu;
  }

  get fd(): number {
    return this.inner.fd;
  }
  get stats(): LinkStats {
    return this.inner.stats;
  }
  get vnet(): boolean | undefined {
    return this.inner.vnet;
  }
  get readiness(): Readiness | undefined {
    return this.inner.readiness;
  }
  get gather(): boolean | undefined {
    return this.inner.gather;
  }
  get boundedRecv(): boolean | undefined {
    return this.inner.boundedRecv;
  }

  /** Number of attached taps. */
  get tapCount(): number {
    return this.sinks.length;
  }

  /**
   * Attaches `sink` to every frame both ways; returns the detach function (idempotent).
   * `onDetach` runs once when it detaches, by that function or by `close`.
   */
  attach(sink: TapSink, onDetach?: () => void): () => void {
    const own: TapSink = (rx, buf, off, len, t) => sink(rx, buf, off, len, t);
    this.setSinks([...this.sinks, own]);
    const detach = () => {
      if (!this.sinks.includes(own)) return;
      this.setSinks(this.sinks.filter((s) => s !== own));
      this.closers.delete(own);
      onDetach?.();
    };
    this.closers.set(own, detach);
    return detach;
  }

  /** Attaches a pcap-style writer for `o.direction`, detaching after `o.maxFrames` frames. */
  tap(writer: FrameWriter, o: TapOptions = {}): () => void {
    const d = o.direction ?? "both";
    const rx = d !== "tx", tx = d !== "rx";
    let left = o.maxFrames ?? Infinity;
    const detach = this.attach((isRx, buf, off, len, t) => {
      if ((isRx ? !rx : !tx) || left <= 0) return;
      writer.writeFrame(buf, off, len, t);
      if (--left <= 0) detach();
    }, o.onDone);
    return detach;
  }

  private setSinks(s: readonly TapSink[]): void {
    this.sinks = s;
    this.sink = s.length === 0 ? null : s.length === 1 ? s[0] : (rx, buf, off, len, t) => {
      for (const f of s) f(rx, buf, off, len, t);
    };
  }

  /** Receives through the inner link, then shows the frames to the taps. */
  recv(batch: FrameBatch, max?: number): number {
    const n = this.inner.recv(batch, max);
    const sink = this.sink;
    if (sink === null || n === 0) return n;
    const t = nowMicros();
    for (let i = 0; i < n; i++) sink(true, batch.bufs[i], batch.offs[i], batch.lens[i], t);
    return n;
  }

  /** Shows the frames to the taps (before the inner link may reuse them), then sends. */
  send(batch: FrameBatch, count: number): number {
    const sink = this.sink;
    if (sink !== null) {
      const t = nowMicros(), joins = batch.joins;
      for (let i = 0; i < count; i++) {
        const j = joins === null ? 0 : joins[i];
        if (j === 0) sink(false, batch.bufs[i], batch.offs[i], batch.lens[i], t);
        else sink(false, this.assemble(batch, i, j), 0, this.trainLen, t);
        i += j;
      }
    }
    return this.inner.send(batch, count);
  }

  /** A train's frame (slot `i` and the `j` continuing it) copied together, for the taps. */
  private assemble(batch: FrameBatch, i: number, j: number): Uint8Array {
    const out = this.train ??= new Uint8Array(MAX_FRAME);
    let n = 0;
    for (let s = i; s <= i + j; s++) {
      const o = batch.offs[s], l = Math.min(batch.lens[s], out.length - n);
      out.set(batch.bufs[s].subarray(o, o + l), n);
      n += l;
    }
    this.trainLen = n;
    return out;
  }

  /** Sends one frame, tapped. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    const sink = this.sink;
    if (sink !== null) sink(false, buf, off, len, nowMicros());
    return this.inner.sendFrame(buf, off, len);
  }

  /** The inner link's state. */
  isUp(): boolean {
    return this.inner.isUp();
  }

  /** Detaches every tap and closes the inner link. */
  close(): void {
    for (const d of [...this.closers.values()]) d();
    this.inner.close();
  }
}
