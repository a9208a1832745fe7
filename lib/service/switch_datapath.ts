// The service's view of the runtime datapath (lib/runtime): delegates to it, and derives the
// admin views the runtime has no request for (layers from the LFT dump, underlay links from
// the counter snapshot), so the API answers them from the real switch instead of 501.

import {
  type AdminDatapath,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
} from "../admin/datapath.ts";
import type { Change } from "../config/resources.ts";

/** What the runtime entry returns (WorkerDatapath or SwitchDatapath). */
export type RuntimeDatapath = AdminDatapath & {
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]>;
  describe?(): Promise<Record<string, unknown>>;
};

type LayerRow = Record<string, unknown> & {
  layer: string;
  rules?: { in?: unknown[]; out?: unknown[] };
  flows?: unknown[];
  stats?: unknown;
};

/** An AdminDatapath over the real switch. */
export class ServiceDatapath implements AdminDatapath {
  readonly platform: string;

  /** `inner` is the runtime's datapath; `mode` says where its packet loop runs. */
  constructor(readonly inner: RuntimeDatapath, readonly mode: "worker" | "in-process") {
    this.platform = inner.platform;
  }

  /** Applies one change through the runtime. */
  apply(change: Change): Promise<void> {
    return this.inner.apply(change);
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

  /** Clears a port's UFT or LFT. */
  clearFlows(port: string, table: "uft" | "lft"): Promise<number> {
    return this.inner.clearFlows!(port, table);
  }

  /** A port's layers; a port without a VPC pipeline has none. */
  async listLayers(port: string): Promise<Record<string, unknown>[] | null> {
    const rows = await this.layerRows(port);
    return rows.map((r) => ({
      layer: r.layer,
      rulesIn: r.rules?.in?.length ?? 0,
      rulesOut: r.rules?.out?.length ?? 0,
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

  /** Underlay links and their I/O counters, from the switch's counter snapshot. */
  underlayLinks(): Record<string, unknown>[] {
    const links = new Map<string, Record<string, number>>();
    for (const s of this.inner.counters()) {
      const m = /^xdeno_underlay_(.+)_total$/.exec(s.name);
      const name = s.labels.link;
      if (!m || name === undefined) continue;
      let row = links.get(name);
      if (!row) links.set(name, row = {});
      row[m[1]] = s.value;
    }
    return [...links].map(([name, counters]) => ({ name, counters }));
  }

  /** Switch internals (ports, routes, counters) when the runtime offers them. */
  describe(): Promise<Record<string, unknown>> | null {
    return this.inner.describe ? this.inner.describe() : null;
  }

  /** Stops the switch and removes what it created. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
