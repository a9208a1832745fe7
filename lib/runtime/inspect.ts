// Inspection of a live SwitchDatapath for the admin API (trace, neighbours, underlay links,
// captures). It runs wherever the datapath runs: inside the Worker, or in-process. It keeps its
// own record of the applied port specs and per-port tables so a trace can build a throwaway copy
// of a port's pipeline — the live port (flow tables, SNAT ports, counters) is never touched.

import { DatapathRejected } from "../admin/datapath.ts";
import type { Change, PortSpec } from "../config/resources.ts";
import type { ExternalIps, FirewallRule, PortSubnets, RouterEntry } from "../config/schema.ts";
import type { Link } from "../link/link.ts";
import {
  type CaptureChunk,
  CaptureQueue,
  neighbourRows,
  type TraceAnswer,
  traceCopy,
  underlayLinkRows,
} from "../switch/inspect.ts";
import { vpcPort } from "../vpc/vpc_port.ts";
import type { SwitchDatapath } from "./runtime.ts";
import { externalInput, firewallInput, routeInput, vpcConfig } from "./translate.ts";

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
  private readonly specs = new Map<string, PortSpec>();
  private readonly firewall = new Map<string, FirewallRule[]>();
  private readonly router = new Map<string, RouterEntry[]>();
  private readonly external = new Map<string, ExternalIps>();
  private readonly subnets = new Map<string, PortSubnets>();
  private readonly taps = new Map<number, { q: CaptureQueue; t: TapSpec; link: Link }>();
  private hooked = false;

  constructor(readonly dp: SwitchDatapath) {}

  /** Records a change the datapath applied (call only after it succeeded). */
  record(c: Change): void {
    const set = <T>(m: Map<string, T>, v: T | null) => {
      if (v === null) m.delete(c.key);
      else m.set(c.key, v);
    };
    switch (c.kind) {
      case "port":
        if (c.value === null) {
          for (
            const m of [this.specs, this.firewall, this.router, this.external, this.subnets]
          ) m.delete(c.key);
        } else this.specs.set(c.key, c.value);
        return;
      case "firewall":
        return set(this.firewall, c.value);
      case "router":
        return set(this.router, c.value);
      case "externalIps":
        return set(this.external, c.value);
      case "subnets":
        return set(this.subnets, c.value);
    }
  }

  /** Traces `frame` through a fresh copy of `port`'s pipeline (see traceCopy). */
  trace(port: string, direction: "in" | "out", frame: Uint8Array): TraceAnswer {
    const spec = this.specs.get(port);
    if (!spec || !this.dp.sw.port(port)) throw new DatapathRejected("port", `no port ${port}`);
    const cfg = vpcConfig(spec, this.dp.config.sled.underlayAddress, this.dp.mappings);
    if (!cfg) throw new DatapathRejected("port", `port ${port} has no VPC pipeline to trace`);
    const copy = vpcPort(cfg);
    const fw = this.firewall.get(port), rt = this.router.get(port);
    const x = this.external.get(port);
    if (fw) copy.setFirewall(fw.map(firewallInput));
    if (rt) copy.setRoutes(rt.map(routeInput));
    if (x) copy.setExternalIps(externalInput(x));
    const sn = this.subnets.get(port);
    if (sn) copy.setSubnets(sn);
    try {
      return traceCopy(copy, direction, frame);
    } finally {
      copy.port.clearFlows();
    }
  }

  /** Neighbour cache entries of every underlay link. */
  neighbours(): Record<string, unknown>[] {
    return neighbourRows(this.dp.sw);
  }

  /** Underlay links with carrier state. */
  underlayLinks(): Record<string, unknown>[] {
    return underlayLinkRows(this.dp.sw);
  }

  private link(kind: "port" | "link", name: string): Link | null {
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
