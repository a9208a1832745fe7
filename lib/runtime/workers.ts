// Several datapath workers (`datapath.workers` > 1), one per TAP queue: each runs a full switch
// over its own queue of every multi-queue TAP and its own filtered socket on every underlay link,
// so the kernel spreads flows across them by flow hash. This is the admin thread's side: every
// change reaches every worker (worker 0 first: it creates the devices and hands the other queues
// over), and status and counters are summed. README "Several workers" has the design.

import {
  type AdminDatapath,
  type CaptureTarget,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
  type TraceRequest,
} from "../contract/datapath.ts";
import type { Change, PortSpec } from "../config/resources.ts";
import type { FrameWriter, TapOptions } from "../link/capture.ts";
import type { TraceAnswer } from "../switch/trace.ts";
import type { ApplyResult, WorkerInit } from "./protocol.ts";
import type { CreatedPort, HandedQueue } from "./queues.ts";
import { WorkerDatapath } from "./remote.ts";

/** N WorkerDatapaths acting as one datapath. */
export class MultiWorkerDatapath implements AdminDatapath {
  readonly platform: string;
  private queue: { c: Change; resolve: () => void; reject: (e: Error) => void }[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly workers: WorkerDatapath[]) {
    this.platform = workers[0].platform;
    // Each neighbour advertisement reaches one worker (lib/link/share_filter.ts): it relays it.
    for (const w of workers) {
      w.onNeighbours = (rows) => {
        for (const o of workers) if (o !== w) o.relayNeighbours(rows);
      };
    }
  }

  /** Starts `count` workers sharing the TAP queues and the underlay links' frames. */
  static async start(
    init: Omit<WorkerInit, "t" | "stop">,
    count: number,
  ): Promise<MultiWorkerDatapath> {
    const started = await Promise.allSettled(
      Array.from(
        { length: count },
        (_, index) => WorkerDatapath.start({ ...init, share: { index, count } }),
      ),
    );
    const ok = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    const bad = started.find((s) => s.status === "rejected");
    if (bad) {
      await Promise.allSettled(ok.map((w) => w.close()));
      throw bad.reason;
    }
    return new MultiWorkerDatapath(ok);
  }

  /** Queues a change; the changes queued in one tick travel to the workers as one batch. */
  apply(c: Change): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) queueMicrotask(() => this.flush());
      this.queue.push({ c, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const res = await this.applyAll(batch.map((b) => b.c));
      batch.forEach((b, i) => {
        const e = res[i];
        if (e === null) b.resolve();
        else b.reject(new DatapathRejected(e.field, e.reason));
      });
    } catch (e) {
      for (const b of batch) b.reject(e as Error);
    }
  }

  /** Applies a batch on every worker, one batch at a time; one result per change. */
  applyAll(changes: Change[]): Promise<ApplyResult[]> {
    const run = this.tail.then(() => this.applyBatch(changes));
    this.tail = run.catch(() => {});
    return run;
  }

  private async applyBatch(changes: Change[]): Promise<ApplyResult[]> {
    const [first, ...rest] = this.workers;
    // A redefined port's old device must lose every queue before worker 0 makes the new one.
    await Promise.all(rest.map((w) => w.request({ op: "release", changes })));
    const { results, created } = await first.request<
      { results: ApplyResult[]; created: Record<string, CreatedPort> }
    >({ op: "applyShare", changes });
    const specs: Record<string, PortSpec> = {};
    for (const [name, c] of Object.entries(created)) specs[name] = c.spec;
    const replies = await Promise.all(rest.map((w, k) => {
      const fds: Record<string, HandedQueue> = {};
      for (const [name, c] of Object.entries(created)) {
        if (c.fds.length > 0) fds[name] = { fd: c.fds[k], pinned: c.pinned };
      }
      return w.request<ApplyResult[]>({ op: "replay", changes, results, created: specs, fds });
    }));
    return results.map((r, i) => {
      if (r !== null) return r;
      const k = replies.findIndex((x) => x[i] !== null);
      return k < 0
        ? null
        : { field: replies[k][i]!.field, reason: `worker ${k + 1}: ${replies[k][i]!.reason}` };
    });
  }

  /** A port's status: worker 0's state, every worker's counters summed. */
  portStatus(name: string): PortStatus | null {
    const all = this.workers.map((w) => w.portStatus(name));
    const s = all[0];
    if (!s) return null;
    const counters = { ...s.counters };
    for (const o of all.slice(1)) {
      if (!o) continue;
      for (const k of Object.keys(counters) as (keyof typeof counters)[]) {
        counters[k] += o.counters[k];
      }
    }
    return { ...s, counters };
  }

  /** Every worker's counters, summed per name and labels. */
  counters(): CounterSample[] {
    const out = new Map<string, CounterSample>();
    for (const w of this.workers) {
      for (const s of w.counters()) {
        const key = `${s.name}${JSON.stringify(s.labels)}`;
        const have = out.get(key);
        if (have) have.value += s.value;
        else out.set(key, { ...s });
      }
    }
    return [...out.values()];
  }

  /** Fetches a fresh snapshot from every worker. */
  async refresh(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.refresh()));
  }

  /** Pauses or resumes a port on every worker. */
  async setPortState(port: string, state: "running" | "paused"): Promise<void> {
    await Promise.all(this.workers.map((w) => w.setPortState(port, state)));
  }

  /** Flows of a port's table: VPC ports run on one worker only (README), so worker 0's. */
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]> {
    return this.workers[0].dumpFlows(port, table);
  }

  /** Clears a port's flows (VPC ports run on one worker only: worker 0). */
  clearFlows(port: string, table: "uft" | "lft", layer?: string): Promise<number> {
    return this.workers[0].clearFlows(port, table, layer);
  }

  /** Worker 0's ports, routes and counters, with each worker's own view under `workers`. */
  async describe(): Promise<Record<string, unknown>> {
    const all = await Promise.all(this.workers.map((w) => w.describe()));
    return { ...all[0], workers: all };
  }

  /** Traces a frame through worker 0's switch (every worker holds the same tables). */
  trace(req: TraceRequest): Promise<TraceAnswer> {
    return this.workers[0].trace(req);
  }

  /** Neighbour cache entries of worker 0 (the others adopt what any worker confirms). */
  neighbours(): Promise<Record<string, unknown>[]> {
    return this.workers[0].neighbours();
  }

  /** Underlay links as worker 0 sees them. */
  underlayLinkState(): Promise<Record<string, unknown>[]> {
    return this.workers[0].underlayLinkState();
  }

  /** Captures worker 0's share of the traffic only (README "Several workers"). */
  tap(target: CaptureTarget, writer: FrameWriter, opts: TapOptions): (() => void) | null {
    return this.workers[0].tap(target, writer, opts);
  }

  /** Stops every worker; the others first, so worker 0 removes devices with no queue left. */
  async close(): Promise<void> {
    const [first, ...rest] = this.workers;
    const r = await Promise.allSettled(rest.map((w) => w.close()));
    await first.close();
    const bad = r.find((x) => x.status === "rejected");
    if (bad) throw bad.reason;
  }
}
