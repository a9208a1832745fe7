// The contract between the admin plane and the datapath. The switch implements it (phase 2);
// `MemoryDatapath` implements it with no packet I/O so the service runs and is testable
// without privileges. Changes arrive as keyed resource set/remove, already validated and with
// references checked, in dependency order; the datapath applies each one fully or not at all.

import { type Change, type Kind, PER_PORT_KINDS } from "../config/resources.ts";
import { CaptureLink, type FrameWriter, type TapOptions } from "../link/capture.ts";
import { type MemoryLink, memoryPair } from "../link/memory.ts";

/** A change the datapath refused; `field` names what was wrong (goes into the 400/409). */
export class DatapathRejected extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
  }
}

/** One counter sample for /metrics: a name, labels and a value. */
export interface CounterSample {
  name: string;
  help: string;
  type: "counter" | "gauge";
  labels: Record<string, string>;
  value: number;
}

/** Runtime status of one port (beyond its configured spec). */
export interface PortStatus {
  state: "running" | "paused";
  link: { name: string; kind: string; up: boolean };
  counters: Record<string, number>;
}

/** A value, or a promise of it (views a worker-hosted datapath computes on request). */
export type MaybePromise<T> = T | Promise<T>;

/** What the admin API needs from a datapath. Optional members are phase-2 capabilities. */
export interface AdminDatapath {
  /** "linux", "illumos" or "memory". */
  readonly platform: string;
  /** Applies one change (between batches); throws DatapathRejected if refused, with nothing changed. */
  apply(change: Change): Promise<void>;
  /** Runtime status of a port the datapath has; null if unknown. */
  portStatus(name: string): PortStatus | null;
  /** Every port, layer, link and table counter. */
  counters(): CounterSample[];
  /** Pauses or starts a port's traffic. */
  setPortState?(name: string, state: "running" | "paused"): Promise<void>;
  /** Flows of a port's UFT/LFT or TCP table as plain rows. */
  dumpFlows?(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]>;
  /** Clears a port's flow table (LFT: only `layer`'s when given); returns how many entries went. */
  clearFlows?(port: string, table: "uft" | "lft", layer?: string): Promise<number>;
  /**
   * Attaches a frame tap to a port's link or an underlay link; returns the detach function,
   * or null when there is no such target. For a port, "rx" is what its client sent
   * (direction out) and "tx" what the switch delivered to it (direction in).
   */
  tap?(target: CaptureTarget, writer: FrameWriter, opts: TapOptions): (() => void) | null;
  /** Runs one frame through a port's pipeline without side effects (POST /v1/trace). */
  trace?(req: TraceRequest): Promise<TraceResult>;
  /** A port's layers with rule and flow counts (list-layers). */
  listLayers?(port: string): MaybePromise<Record<string, unknown>[] | null>;
  /** One layer's rules and flows (dump-layer); null when the port or layer is unknown. */
  dumpLayer?(port: string, layer: string): MaybePromise<Record<string, unknown> | null>;
  /** Underlay links with state and counters. */
  underlayLinks?(): MaybePromise<Record<string, unknown>[]>;
  /** Neighbour cache entries of the underlay links. */
  neighbours?(): MaybePromise<Record<string, unknown>[]>;
  /** Stops links and removes what the datapath created (devices, addresses, routes). */
  close(): Promise<void>;
}

/** What a capture attaches to. */
export interface CaptureTarget {
  kind: "port" | "link";
  name: string;
}

/** A trace request: which port, which direction, the frame. */
export interface TraceRequest {
  port: string;
  direction: "in" | "out";
  frame: Uint8Array;
}

/** A trace answer: the verdict, each layer's decision and the resulting frame (hex). */
export interface TraceResult {
  verdict: string;
  layers: { port?: string; dir?: string; layer: string; decision: string; rule?: string }[];
  /** The frame after the traced port's pipeline (hex). */
  frame: string | null;
  reason?: string;
  /** Where the frame leaves the switch: an underlay link (next hop, MACs), a port, a hairpin. */
  egress?: {
    kind: string;
    via: string;
    nextHop?: string;
    srcMac: string;
    dstMac: string;
    frame: string;
  };
}

/** A datapath without packet I/O: tracks ports and changes so every admin path runs. */
export class MemoryDatapath implements AdminDatapath {
  readonly platform = "memory";
  readonly ports = new Map<string, PortStatus>();
  /** Number of applied changes per kind (for metrics and tests). */
  readonly applied = new Map<Kind, number>();
  /** Each port's switch-side link (tappable) and the client's end of its wire. */
  readonly links = new Map<string, { link: CaptureLink; client: MemoryLink }>();
  closed = false;

  /** Applies one change; refuses a table for a port it does not have. */
  apply(c: Change): Promise<void> {
    if (c.kind === "port") {
      if (c.value === null) {
        this.ports.delete(c.key);
        this.links.get(c.key)?.link.close();
        this.links.delete(c.key);
      } else if (!this.ports.has(c.key)) {
        const [sw, client] = memoryPair({ name: c.key }, {
          name: `${c.key}-client`,
          mac: c.value.mac,
        });
        this.links.set(c.key, { link: new CaptureLink(sw), client });
        this.ports.set(c.key, {
          state: "running",
          link: { name: c.key, kind: "memory", up: true },
          counters: { rx_frames: 0, tx_frames: 0, drops: 0 },
        });
      }
    } else if ((PER_PORT_KINDS as readonly string[]).includes(c.kind) && c.value !== null) {
      if (!this.ports.has(c.key)) {
        return Promise.reject(new DatapathRejected("port", `no port ${c.key}`));
      }
    }
    this.applied.set(c.kind, (this.applied.get(c.kind) ?? 0) + 1);
    return Promise.resolve();
  }

  /** Status of a port, null when absent. */
  portStatus(name: string): PortStatus | null {
    return this.ports.get(name) ?? null;
  }

  /** Per-port counters and applied-change counts. */
  counters(): CounterSample[] {
    const out: CounterSample[] = [];
    for (const [port, st] of this.ports) {
      for (const [k, v] of Object.entries(st.counters)) {
        out.push({
          name: `xdeno_port_${k}_total`,
          help: `port ${k.replace("_", " ")}`,
          type: "counter",
          labels: { port },
          value: v,
        });
      }
    }
    for (const [kind, n] of this.applied) {
      out.push({
        name: "xdeno_changes_applied_total",
        help: "datapath changes applied",
        type: "counter",
        labels: { kind },
        value: n,
      });
    }
    return out;
  }

  /** Pauses or starts a port. */
  setPortState(name: string, state: "running" | "paused"): Promise<void> {
    const p = this.ports.get(name);
    if (!p) return Promise.reject(new DatapathRejected("name", `no port ${name}`));
    p.state = state;
    return Promise.resolve();
  }

  /** Taps a port's link (this datapath has no underlay links). */
  tap(target: CaptureTarget, writer: FrameWriter, opts: TapOptions): (() => void) | null {
    const l = target.kind === "port" ? this.links.get(target.name) : undefined;
    return l ? l.link.tap(writer, opts) : null;
  }

  /** Forgets everything. */
  close(): Promise<void> {
    this.closed = true;
    for (const l of this.links.values()) l.link.close();
    this.links.clear();
    this.ports.clear();
    return Promise.resolve();
  }
}
