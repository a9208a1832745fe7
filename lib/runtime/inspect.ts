// Inspection of a live SwitchDatapath for the admin API (trace, neighbours, underlay links,
// captures). It runs wherever the datapath runs: inside the Worker, or in-process. Traces run
// on the live switch and pipelines without changing them (lib/switch/trace.ts).

import { DatapathRejected } from "../contract/datapath.ts";
import type { CaptureLink } from "../link/capture.ts";
import {
  type CaptureChunk,
  CaptureQueue,
  neighbourRows,
  underlayLinkRows,
} from "../switch/inspect.ts";
import { type TraceAnswer, traceSwitch } from "../switch/trace.ts";
import type { SwitchDatapath } from "./runtime.ts";

/** Where a capture attaches and what it keeps. */
export interface TapSpec {
  kind: "port" | "link";
  name: string;
  direction: "rx" | "tx" | "both";
  /** 0: unlimited. */
  maxFrames: number;
}

/** Trace, neighbour, link and capture views over one SwitchDatapath. */
export class RuntimeInspector {
  private readonly taps = new Map<number, { q: CaptureQueue; t: TapSpec; link: CaptureLink }>();
  private hooked = false;

  constructor(readonly dp: SwitchDatapath) {}

  /** Traces `frame` through the live switch and the port's pipeline, changing nothing. */
  trace(port: string, direction: "in" | "out", frame: Uint8Array): TraceAnswer {
    if (!this.dp.sw.port(port)) throw new DatapathRejected("port", `no port ${port}`);
    return traceSwitch(this.dp.sw, port, direction, frame);
  }

  /** Neighbour cache entries of every underlay link. */
  neighbours(): Record<string, unknown>[] {
    return neighbourRows(this.dp.sw, this.dp.sw.now);
  }

  /** Underlay links with carrier state. */
  underlayLinks(): Record<string, unknown>[] {
    return underlayLinkRows(this.dp.sw);
  }

  private link(kind: "port" | "link", name: string): CaptureLink | null {
    if (kind === "port") return this.dp.sw.port(name)?.link ?? null;
    return this.dp.sw.underlay.find((u) => u.link.name === name)?.link ?? null;
  }

  /**
   * Starts capture `id`; chunks go to `post` on the switch's timer tick (every ~20 ms). False
   * when there is no such port or link. A port's "rx" is what its client sent, "tx" what the switch delivered.
   */
  tapStart(id: number, t: TapSpec, post: (id: number, c: CaptureChunk) => void): boolean {
    const link = this.link(t.kind, t.name);
    if (!link) return false;
    const q = new CaptureQueue((c) => post(id, c), t.maxFrames);
    q.attach(link, t.direction !== "tx", t.direction !== "rx");
    this.taps.set(id, { q, t, link });
    if (!this.hooked) {
      // The tick runs inside the packet loop: a setInterval can starve while the loop spins
      // between blocking poll(2) calls and MessagePort yields.
      this.hooked = true;
      this.dp.sw.onTick(() => this.taps.size > 0 && this.flushAll());
    }
    return true;
  }

  /** Stops capture `id` (its last chunk follows with `done`). */
  tapStop(id: number): void {
    this.taps.get(id)?.q.finish();
    this.flushAll();
  }

  /** The reader consumed a chunk of capture `id`. */
  tapAck(id: number): void {
    this.taps.get(id)?.q.ack();
  }

  /** Number of running captures. */
  get tapCount(): number {
    return this.taps.size;
  }

  private flushAll(): void {
    for (const [id, { q, t, link }] of this.taps) {
      // A port removed (or recreated) under a capture ends it: its link left the switch.
      if (!q.done && this.link(t.kind, t.name) !== link) q.finish();
      q.flush();
      if (q.done) this.taps.delete(id);
    }
  }

  /** Ends every capture (datapath closing). */
  close(): void {
    for (const { q } of this.taps.values()) q.finish();
    this.flushAll();
  }
}
