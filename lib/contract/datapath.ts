// The contract between the admin plane and the datapath. The runtime implements it (in
// process or in a worker); admin's `MemoryDatapath` implements it with no packet I/O. Changes
// arrive as keyed resource set/remove, already validated and with references checked, in
// dependency order; the datapath applies each one fully or not at all.

import type { Change } from "../config/resources.ts";
import type { FrameWriter, TapOptions } from "../link/capture.ts";
import { InvalidField } from "./field_error.ts";

/** A change the datapath refused; `field` names what was wrong (goes into the 400/409). */
export class DatapathRejected extends InvalidField {}

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
