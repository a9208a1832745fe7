// The admin thread's side of the datapath Worker: an AdminDatapath whose changes are batched
// into one message per tick, whose status and counters are served from the latest snapshot,
// and whose close() raises the shared stop flag before asking the worker to clean up.

import {
  type AdminDatapath,
  type CaptureTarget,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
  type TraceRequest,
} from "../contract/datapath.ts";
import type { Change } from "../config/resources.ts";
import type { FrameWriter, TapOptions } from "../link/capture.ts";
import type { CaptureChunk } from "../switch/inspect.ts";
import type { TraceAnswer } from "../switch/trace.ts";
import type { NeighbourRow } from "./queues.ts";
import type {
  ApplyResult,
  CaptureAck,
  NeighbourRelay,
  Snapshot,
  WorkerInit,
  WorkerMessage,
  WorkerRequest,
} from "./protocol.ts";
import type { Doorbell } from "./doorbell.ts";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type RequestBody = WorkerRequest extends infer R ? R extends unknown ? Omit<R, "t" | "id"> : never
  : never;

/** A datapath running in a Worker. */
export class WorkerDatapath implements AdminDatapath {
  readonly platform: string;
  private readonly worker: Worker;
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private snap: Snapshot = { ports: {}, counters: [] };
  private queue: { c: Change; p: Pending }[] = [];
  private closed = false;
  private readonly taps = new Map<number, (c: CaptureChunk) => void>();
  private nextTap = 1;
  /** Frames captures lost because a reader was slow (worker queue full). */
  captureDropped = 0;
  /** Set when the worker reported a fatal error (its packet loop died). */
  failure: string | null = null;
  /** Several workers: receives the underlay neighbours this worker confirmed. */
  onNeighbours: ((rows: NeighbourRow[]) => void) | null = null;

  private constructor(
    init: Omit<WorkerInit, "t" | "stop">,
    ready: Pending,
    private readonly bell: Doorbell | null,
  ) {
    this.platform = init.platform;
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (ev: MessageEvent<WorkerMessage>) => this.onMessage(ev.data, ready);
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.fail(`datapath worker: ${ev.message}`, ready);
    };
    const msg: WorkerInit = {
      ...init,
      t: "init",
      stop: this.stopFlag.buffer as SharedArrayBuffer,
      bell: bell?.fd,
    };
    this.worker.postMessage(msg);
  }

  /**
   * Starts the worker and resolves once its datapath is built. A Linux datapath gets a doorbell
   * (lib/runtime/doorbell.ts); memory links wake the loop through timers, which are turns anyway.
   */
  static async start(init: Omit<WorkerInit, "t" | "stop">): Promise<WorkerDatapath> {
    const bell = init.platform === "linux"
      ? (await import("./doorbell.ts")).Doorbell.create()
      : null;
    return await new Promise((resolve, reject) => {
      const dp: WorkerDatapath = new WorkerDatapath(init, {
        resolve: () => resolve(dp),
        reject: (e) => {
          dp.worker.terminate();
          // The loop ended or never started: nothing polls the bell any more.
          bell?.close();
          reject(e);
        },
      }, bell);
    });
  }

  /** Posts a message and rings the doorbell so the worker's loop lets it be dispatched. */
  private send(m: WorkerRequest | CaptureAck | NeighbourRelay): void {
    this.worker.postMessage(m);
    this.bell?.ring();
  }

  private onMessage(m: WorkerMessage, ready: Pending): void {
    switch (m.t) {
      case "ready":
        ready.resolve(undefined);
        return;
      case "initError":
        this.fail(m.message, ready);
        return;
      case "snap":
        this.snap = m.snap;
        return;
      case "neigh":
        this.onNeighbours?.(m.rows);
        return;
      case "cap":
        this.taps.get(m.tap)?.(m.chunk);
        this.send({ t: "capAck", tap: m.tap } satisfies CaptureAck);
        return;
      case "res": {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) {
          if (m.snap) this.snap = m.snap;
          p?.resolve(m.value);
        } else p?.reject(new DatapathRejected(m.error.field, m.error.reason));
      }
    }
  }

  private fail(message: string, ready: Pending): void {
    this.failure = message;
    ready.reject(new Error(message));
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  /** Sends one request; resolves with the worker's answer. */
  request<T>(body: RequestBody): Promise<T> {
    if (this.failure) return Promise.reject(new Error(this.failure));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ ...body, t: "req", id } as WorkerRequest);
    });
  }

  /** Several workers: hands neighbours another worker confirmed to this one. */
  relayNeighbours(rows: NeighbourRow[]): void {
    if (!this.closed) this.send({ t: "neigh", rows } satisfies NeighbourRelay);
  }

  /** Queues a change; every change queued in this tick travels in one message. */
  apply(c: Change): Promise<void> {
    if (this.closed) return Promise.reject(new DatapathRejected(c.kind, "datapath is closed"));
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) queueMicrotask(() => this.flush());
      this.queue.push({ c, p: { resolve: () => resolve(), reject } });
    });
  }

  /** Applies several changes in one message; one result per change (null = applied). */
  applyAll(changes: Change[]): Promise<ApplyResult[]> {
    return this.request<ApplyResult[]>({ op: "apply", changes });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const res = await this.applyAll(batch.map((b) => b.c));
      batch.forEach((b, i) => {
        const e = res[i];
        if (e === null) b.p.resolve(undefined);
        else b.p.reject(new DatapathRejected(e.field, e.reason));
      });
    } catch (e) {
      for (const b of batch) b.p.reject(e as Error);
    }
  }

  /** Status of a port from the latest snapshot (refreshed every few hundred ms and per change). */
  portStatus(name: string): PortStatus | null {
    return this.snap.ports[name] ?? null;
  }

  /** Counters from the latest snapshot. */
  counters(): CounterSample[] {
    return [...this.snap.counters, {
      name: "xdeno_capture_dropped_total",
      help: "captured frames dropped because the reader was slow",
      type: "counter",
      labels: {},
      value: this.captureDropped,
    }];
  }

  /** Fetches a fresh snapshot now. */
  async refresh(): Promise<void> {
    await this.request({ op: "snapshot" });
  }

  /** Pauses or resumes a port. */
  async setPortState(port: string, state: "running" | "paused"): Promise<void> {
    await this.request({ op: "setPortState", port, state });
  }

  /** Flows of a port's table. */
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]> {
    return this.request({ op: "dumpFlows", port, table });
  }

  /** Clears a port's flows (of one layer when `layer` is given). */
  clearFlows(port: string, table: "uft" | "lft", layer?: string): Promise<number> {
    return this.request({ op: "clearFlows", port, table, layer });
  }

  /** Ports, routes and switch counters as plain data (diagnostics, tests). */
  describe(): Promise<Record<string, unknown>> {
    return this.request({ op: "describe" });
  }

  /** Runs a frame through a copy of a port's pipeline in the worker (no side effects). */
  trace(req: TraceRequest): Promise<TraceAnswer> {
    return this.request({ op: "trace", ...req });
  }

  /** Neighbour cache entries of the underlay links. */
  neighbours(): Promise<Record<string, unknown>[]> {
    return this.request({ op: "neighbours" });
  }

  /** Underlay links with carrier state, MTU and link-local address. */
  underlayLinkState(): Promise<Record<string, unknown>[]> {
    return this.request({ op: "underlayLinks" });
  }

  /**
   * Streams frames of a port's or underlay link's rx/tx into `writer`; the worker copies them
   * in chunks. Null when the latest snapshot knows no such target.
   */
  tap(target: CaptureTarget, writer: FrameWriter, opts: TapOptions): (() => void) | null {
    const known = target.kind === "port"
      ? target.name in this.snap.ports
      : this.snap.counters.some((s) => s.labels.link === target.name);
    if (!known || this.closed || this.failure) return null;
    const id = this.nextTap++;
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      this.taps.delete(id);
      opts.onDone?.();
    };
    let left = opts.maxFrames ?? Infinity;
    this.taps.set(id, (c) => {
      this.captureDropped += c.dropped;
      let o = 0;
      for (let i = 0; i < c.meta.length && left > 0; i += 2, left--) {
        writer.writeFrame(c.data, o, c.meta[i], c.meta[i + 1]);
        o += c.meta[i];
      }
      if (c.done || left <= 0) end();
    });
    const spec = {
      kind: target.kind,
      name: target.name,
      direction: opts.direction ?? "both",
      maxFrames: opts.maxFrames ?? 0,
    };
    this.request<boolean>({ op: "tapStart", tap: id, spec }).then(
      (ok) => ok || end(),
      () => end(),
    );
    return () => {
      if (!open) return;
      end();
      this.request({ op: "tapStop", tap: id }).catch(() => {});
    };
  }

  /** Memory platform: sends frames from the far end of link `link` into the switch. */
  inject(link: string, frames: Uint8Array[]): Promise<number> {
    return this.request({ op: "inject", link, frames });
  }

  /** Memory platform: frames that arrived at the far end of link `link`. */
  take(link: string): Promise<Uint8Array[]> {
    return this.request({ op: "take", link });
  }

  /** Stops the packet loop, removes everything the datapath created, ends the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.stopFlag, 0, 1);
    let ended = this.failure !== null;
    try {
      if (!ended) await this.request({ op: "close" });
      ended = true; // the worker answers close only after its loop returned
    } finally {
      this.worker.terminate();
      // Otherwise the loop may still poll the fd for a few ms: leave it open (its number could
      // be reused by a link the loop would then read).
      if (ended) this.bell?.close();
    }
  }
}
