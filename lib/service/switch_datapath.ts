// The service's view of the runtime datapath (lib/runtime): delegates to it, and derives the
// admin views the runtime has no request for (layers from the LFT dump, underlay counters from
// the counter snapshot). Trace, neighbours, link state and captures come from the switch itself:
// through worker requests, or an in-process RuntimeInspector when the loop runs here.

import {
  type AdminDatapath,
  type CaptureTarget,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
  type TraceRequest,
  type TraceResult,
} from "../contract/datapath.ts";
import type { Change } from "../config/resources.ts";
import type { FrameWriter, TapOptions } from "../link/capture.ts";
import { RuntimeInspector } from "../runtime/inspect.ts";
import type { SwitchDatapath } from "../runtime/runtime.ts";
import type { TraceAnswer } from "../switch/trace.ts";

/** What the runtime entry returns (WorkerDatapath or SwitchDatapath). */
export type RuntimeDatapath = AdminDatapath & {
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]>;
  describe?(): Promise<Record<string, unknown>>;
  /** WorkerDatapath: inspection through worker requests. */
  neighbours?(): Promise<Record<string, unknown>[]>;
  underlayLinkState?(): Promise<Record<string, unknown>[]>;
};

type LayerRow = Record<string, unknown> & {
  layer: string;
  rules?: { in?: unknown[]; out?: unknown[] };
  defaults?: { in?: string; out?: string };
  flows?: unknown[];
  stats?: unknown;
};

/** An AdminDatapath over the real switch. */
export class ServiceDatapath implements AdminDatapath {
  readonly platform: string;
  /** Inspection of an in-process switch (null when the loop runs in a Worker). */
  private readonly local: RuntimeInspector | null;
  private nextTap = 1;

  /** `inner` is the runtime's datapath; `mode` says where its packet loop runs. */
  constructor(readonly inner: RuntimeDatapath, readonly mode: "worker" | "in-process") {
    this.platform = inner.platform;
    this.local = "sw" in inner ? new RuntimeInspector(inner as unknown as SwitchDatapath) : null;
  }

  /** Applies one change through the runtime. */
  async apply(change: Change): Promise<void> {
    await this.inner.apply(change);
  }

  /** A port's status from the switch. */
  portStatus(name: string): PortStatus | null {
    return this.inner.portStatus(name);
  }

  /** The switch's counters. */
  counters(): CounterSample[] {
    return this.inner.counters();
  }

  /** Pauses or starts a port in the switch. */
  setPortState(name: string, state: "running" | "paused"): Promise<void> {
    return this.inner.setPortState!(name, state);
  }

  /** A port's UFT/LFT/TCP rows. */
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]> {
    return this.inner.dumpFlows(port, table);
  }

  /** Clears a port's UFT or LFT (one layer's with `layer`). */
  clearFlows(port: string, table: "uft" | "lft", layer?: string): Promise<number> {
    return this.inner.clearFlows!(port, table, layer);
  }

  /** A port's layers; a port without a VPC pipeline has none. */
  async listLayers(port: string): Promise<Record<string, unknown>[] | null> {
    const rows = await this.layerRows(port);
    return rows.map((r) => ({
      layer: r.layer,
      rulesIn: r.rules?.in?.length ?? 0,
      rulesOut: r.rules?.out?.length ?? 0,
      defaultIn: r.defaults?.in ?? null,
      defaultOut: r.defaults?.out ?? null,
      flows: r.flows?.length ?? 0,
      stats: r.stats ?? null,
    }));
  }

  /** One layer's rules, flows and counters; null when the port has no such layer. */
  async dumpLayer(port: string, layer: string): Promise<Record<string, unknown> | null> {
    const r = (await this.layerRows(port)).find((x) => x.layer === layer);
    if (!r) return null;
    const { layer: _, ...rest } = r;
    return { layer, ...rest };
  }

  private async layerRows(port: string): Promise<LayerRow[]> {
    try {
      return await this.inner.dumpFlows(port, "lft") as LayerRow[];
    } catch (e) {
      // The runtime refuses ports with no pipeline; for the API that is "no layers".
      if (e instanceof DatapathRejected && e.field === "port") return [];
      throw e;
    }
  }

  /** Runs a frame through a copy of a port's pipeline: no flows made, no counters moved. */
  trace(req: TraceRequest): Promise<TraceResult> {
    if (this.local) {
      try {
        return Promise.resolve(this.local.trace(req.port, req.direction, req.frame));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (!this.inner.trace) return Promise.reject(new Error("runtime cannot trace"));
    return this.inner.trace(req) as Promise<TraceAnswer>;
  }

  /** Neighbour cache entries of the switch's underlay links. */
  async neighbours(): Promise<Record<string, unknown>[]> {
    if (this.local) return this.local.neighbours();
    return this.inner.neighbours ? await this.inner.neighbours() : [];
  }

  /** Taps a port's or underlay link's frames (see AdminDatapath.tap). */
  tap(target: CaptureTarget, writer: FrameWriter, opts: TapOptions): (() => void) | null {
    if (!this.local) return this.inner.tap ? this.inner.tap(target, writer, opts) : null;
    const id = this.nextTap++;
    const ins = this.local;
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      opts.onDone?.();
    };
    const spec = {
      kind: target.kind,
      name: target.name,
      direction: opts.direction ?? "both",
      maxFrames: opts.maxFrames ?? 0,
    };
    const ok = ins.tapStart(id, spec, (_, c) => {
      let o = 0;
      for (let i = 0; i < c.meta.length; i += 2) {
        if (open) writer.writeFrame(c.data, o, c.meta[i], c.meta[i + 1]);
        o += c.meta[i];
      }
      ins.tapAck(id);
      if (c.done) end();
    });
    if (!ok) return null;
    return () => {
      end();
      ins.tapStop(id);
    };
  }

  /** Underlay links with carrier state, plus their I/O counters from the snapshot. */
  async underlayLinks(): Promise<Record<string, unknown>[]> {
    const state = this.local
      ? this.local.underlayLinks()
      : this.inner.underlayLinkState
      ? await this.inner.underlayLinkState()
      : [];
    const counters = this.underlayCounters();
    const names = new Set([...state.map((s) => s.name as string), ...counters.keys()]);
    return [...names].map((name) => ({
      ...(state.find((s) => s.name === name) ?? { name }),
      counters: counters.get(name) ?? {},
    }));
  }

  private underlayCounters(): Map<string, Record<string, number>> {
    const links = new Map<string, Record<string, number>>();
    for (const s of this.inner.counters()) {
      const m = /^xdeno_underlay_(.+)_total$/.exec(s.name);
      const name = s.labels.link;
      if (!m || name === undefined) continue;
      let row = links.get(name);
      if (!row) links.set(name, row = {});
      row[m[1]] = s.value;
    }
    return links;
  }

  /** Switch internals (ports, routes, counters) when the runtime offers them. */
  describe(): Promise<Record<string, unknown>> | null {
    return this.inner.describe ? this.inner.describe() : null;
  }

  /** Stops the switch and removes what it created. */
  close(): Promise<void> {
    this.local?.close();
    return this.inner.close();
  }
}
