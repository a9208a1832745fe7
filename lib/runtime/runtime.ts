// SwitchDatapath: the admin plane's resources (Changes) applied to a running Switch. The
// Reconciler turns each change into typed switch commands, applied between two batches (the loop
// is single-threaded: `apply` runs while `run` awaits) and fully or not at all; this class owns
// the lifecycle (links, loop, close) and answers readers from the switch and the pipelines.

import {
  type AdminDatapath,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
} from "../contract/datapath.ts";
import type { Change, PortSpec } from "../config/resources.ts";
import type { Config } from "../config/schema.ts";
import { DIR_IN, DIR_OUT, PortStateError } from "../engine/mod.ts";
import type { Link } from "../link/link.ts";
import { Switch, type SwitchConfig } from "../switch/switch.ts";
import { type FdWatch, linkWaiter } from "../link/wait.ts";
import type { TurnBell } from "../switch/ready.ts";
import type { Mappings } from "../vpc/mappings.ts";
import type { VpcPort } from "../vpc/vpc_port.ts";
import type { Platform } from "./platform.ts";
import { Reconciler } from "./reconcile.ts";
import { counterSamples } from "./samples.ts";
import { InvalidField } from "../contract/field_error.ts";

/** The part of the config the runtime is built from (the rest arrives as Changes). */
export type RuntimeConfig = Pick<Config, "sled" | "underlay" | "boundaryServices">;

/** Switch tuning passed through (batch size, frame size, timers). */
export type SwitchTuning = Pick<
  SwitchConfig,
  "batch" | "frameSize" | "tickMs" | "nud" | "vnet" | "clock"
>;

/** A running switch driven by config Changes. */
export class SwitchDatapath implements AdminDatapath {
  readonly platform: string;
  readonly sw: Switch;
  /** Turns Changes into typed switch commands; keeps the desired per-port tables. */
  private readonly rec: Reconciler;
  private readonly stop = { stopped: false };
  private loop: Promise<void> | null = null;
  private closed = false;

  constructor(
    readonly config: RuntimeConfig,
    readonly links: Platform,
    tuning: SwitchTuning = {},
  ) {
    this.platform = links.name;
    const opened: Link[] = [];
    const linkNames: [string, string][] = [];
    try {
      const underlay = config.underlay.links.map((l) => {
        const link = links.underlay(l.name, l.device ?? l.name);
        opened.push(link);
        linkNames.push([l.name, link.name]);
        return { link, linkLocal: l.linkLocal };
      });
      this.sw = new Switch({
        ...tuning,
        underlayPrefix: config.sled.underlayPrefix,
        sledAddress: config.sled.underlayAddress,
        underlay,
      });
    } catch (e) {
      for (const l of opened) l.close();
      links.close();
      throw e;
    }
    this.rec = new Reconciler(this.sw, config, links, linkNames);
  }

  /** The sled-wide V2P/V2B tables every VPC pipeline reads. */
  get mappings(): Mappings {
    return this.rec.mappings;
  }

  /**
   * Starts the packet loop (blocking poll on real links: run it in a Worker). With a `bell`
   * (lib/runtime/doorbell.ts) it watches the bell's fd and takes event-loop turns when the bell
   * is due, otherwise only every `safetyMs`.
   */
  start(
    extra?: { readonly stopped: boolean },
    idleMs = 10,
    bell?: FdWatch & TurnBell,
    safetyMs = 250,
  ): Promise<void> {
    const own = this.stop;
    const stop = {
      get stopped() {
        return own.stopped || (extra?.stopped ?? false);
      },
    };
    const watches = [...this.links.watches ?? [], ...bell ? [bell] : []];
    const pace = bell ? { bell, yieldMs: safetyMs } : {};
    this.loop ??= this.sw.run(stop, linkWaiter(this.sw, watches), idleMs, pace);
    return this.loop;
  }

  /** Applies one change now; throws DatapathRejected (nothing changed) when refused. */
  applyNow(c: Change): void {
    if (this.closed) throw new DatapathRejected(c.kind, "datapath is closed");
    try {
      this.rec.apply(c);
    } catch (e) {
      if (e instanceof DatapathRejected) throw e;
      if (e instanceof PortStateError) throw new DatapathRejected("state", e.message);
      if (e instanceof InvalidField) throw new DatapathRejected(e.field, e.reason);
      const msg = e instanceof Error ? e.message : String(e);
      throw new DatapathRejected(`${c.kind}.${c.key}`, msg);
    }
  }

  /** AdminDatapath: applies one change. */
  apply(c: Change): Promise<void> {
    try {
      this.applyNow(c);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Pauses or resumes a port's traffic (kept across a recreation of the port). */
  setPortState(name: string, state: "running" | "paused"): Promise<void> {
    if (!this.setPaused(name, state === "paused")) {
      return Promise.reject(new DatapathRejected("name", `no port ${name}`));
    }
    return Promise.resolve();
  }

  /** Pauses the switch port and its VPC pipeline (which then refuses rule and flow changes). */
  private setPaused(name: string, paused: boolean): boolean {
    return this.rec.setPaused(name, paused);
  }

  /** The spec a live port was built from (null: no such port). */
  portSpec(name: string): PortSpec | null {
    return this.rec.portSpec(name);
  }

  /** The VPC pipeline of a port (null: none or no such port). */
  vpc(name: string): VpcPort | null {
    return this.rec.vpc(name);
  }

  /** Runtime status of one port. */
  portStatus(name: string): PortStatus | null {
    const p = this.sw.port(name);
    if (!p) return null;
    const s = p.link.stats;
    return {
      state: p.paused ? "paused" : "running",
      link: { name: p.link.name, kind: p.link.kind, up: p.link.isUp() },
      counters: {
        rx_frames: s.rxFrames,
        tx_frames: s.txFrames,
        rx_bytes: s.rxBytes,
        tx_bytes: s.txBytes,
        drops: s.rxErrors + s.txErrors + s.txDropped,
      },
    };
  }

  /** Every port's status by name. */
  allPortStatus(): Record<string, PortStatus> {
    const out: Record<string, PortStatus> = {};
    for (const p of this.sw.ports) out[p.name] = this.portStatus(p.name)!;
    return out;
  }

  /** Port, underlay link, switch and pipeline counters. */
  counters(): CounterSample[] {
    const names = this.sw.ports.map((p) => p.name);
    return counterSamples(this.sw, names, (n) => this.rec.vpc(n)?.port ?? null);
  }

  /** Flows of a port's UFT, LFT or TCP table as plain rows. */
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]> {
    const v = this.rec.vpc(port);
    if (!v) return Promise.reject(new DatapathRejected("port", `no VPC pipeline on ${port}`));
    const rows = (dir: string, xs: object[]) => xs.map((r) => ({ dir, ...r }));
    if (table === "uft") {
      return Promise.resolve([
        ...rows("out", v.port.dumpUft(DIR_OUT)),
        ...rows("in", v.port.dumpUft(DIR_IN)),
      ]);
    }
    if (table === "tcp") return Promise.resolve(v.port.dumpTcp() as Record<string, unknown>[]);
    return Promise.resolve(
      v.port.layers.map((l) => ({ layer: l.name, ...v.port.dumpLayer(l.name) })),
    );
  }

  /**
   * Clears a port's UFT, or its LFTs (only `layer`'s when given); returns how many UFT entries
   * (for the UFT) or layer flow pairs (for LFTs) went.
   */
  async clearFlows(port: string, table: "uft" | "lft", layer?: string): Promise<number> {
    const n = (await this.dumpFlows(port, "uft")).length;
    const v = this.rec.vpc(port)!;
    try {
      v.port.assertMutable("flow change");
    } catch (e) {
      throw new DatapathRejected("state", (e as Error).message);
    }
    if (table === "uft") {
      v.port.bumpEpoch();
      return n;
    }
    const layers = layer === undefined
      ? v.port.layers
      : v.port.layers.filter((l) => l.name === layer);
    if (layers.length === 0) throw new DatapathRejected("layer", `${port} has no layer ${layer}`);
    const pairs = layers.reduce((s, l) => s + l.pairCount, 0);
    if (layer === undefined) v.port.clearFlows();
    else v.port.clearLayerFlows(layer);
    return pairs;
  }

  /** Stops the loop, removes every port (devices, plumbing) and closes the underlay links. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.stopped = true;
    await this.loop;
    const errors: unknown[] = [];
    for (const name of this.rec.portNames().reverse()) {
      try {
        this.rec.removePort(name);
      } catch (e) {
        errors.push(e);
      }
    }
    for (const u of this.sw.underlay) u.link.close();
    this.links.close();
    if (errors.length) throw new AggregateError(errors, "closing the datapath failed");
  }
}
