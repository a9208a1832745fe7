// Messages between the admin thread and the datapath Worker. Control traffic is batched
// (postMessage costs ≈ 4 µs one way): changes queued in one tick travel in one request, and
// status/counters come back as periodic snapshots so the admin API reads them synchronously.

import type { CounterSample, PortStatus } from "../contract/datapath.ts";
import type { Change, PortSpec } from "../config/resources.ts";
import type { CaptureChunk } from "../switch/inspect.ts";
import type { TapSpec } from "./inspect.ts";
import type { HandedQueue, NeighbourRow } from "./queues.ts";
import type { RuntimeConfig, SwitchTuning } from "./runtime.ts";

/** How the worker builds its datapath. */
export interface WorkerInit {
  t: "init";
  config: RuntimeConfig;
  platform: "linux" | "memory";
  offload: boolean;
  rx?: "ring" | "mmsg";
  gzNetns?: string | null;
  tuning: SwitchTuning;
  /** Int32 word 0: non-zero asks the packet loop to stop. */
  stop: SharedArrayBuffer;
  snapshotMs: number;
  idleMs: number;
  /** Cap of the packet loop's adaptive busy polling, µs (0: off). */
  busyPollUs?: number;
  /** The doorbell's eventfd (lib/runtime/doorbell.ts), rung after each later message. */
  bell?: number;
  /** Several workers: this one's index and their count. */
  share?: { index: number; count: number };
}

/** A request the worker answers with a `WorkerReply` of the same id. */
export type WorkerRequest =
  & { t: "req"; id: number }
  & (
    | { op: "apply"; changes: Change[] }
    | { op: "dumpFlows"; port: string; table: "uft" | "lft" | "tcp" }
    | { op: "clearFlows"; port: string; table: "uft" | "lft"; layer?: string }
    | { op: "snapshot" }
    | { op: "setPortState"; port: string; state: "running" | "paused" }
    | { op: "inject"; link: string; frames: Uint8Array[] }
    | { op: "take"; link: string }
    | { op: "describe" }
    | { op: "trace"; port: string; direction: "in" | "out"; frame: Uint8Array }
    | { op: "neighbours" }
    | { op: "underlayLinks" }
    | { op: "tapStart"; tap: number; spec: TapSpec }
    | { op: "tapStop"; tap: number }
    | { op: "close" }
    // several workers (lib/runtime/queues.ts)
    | { op: "release"; changes: Change[] }
    | { op: "applyShare"; changes: Change[] }
    | {
      op: "replay";
      changes: Change[];
      results: ApplyResult[];
      created: Record<string, PortSpec>;
      fds: Record<string, HandedQueue>;
    }
  );

/** Underlay neighbours another worker confirmed (both directions; no reply). */
export interface NeighbourRelay {
  t: "neigh";
  rows: NeighbourRow[];
}

/** The admin thread consumed a capture chunk (flow control; no reply). */
export interface CaptureAck {
  t: "capAck";
  tap: number;
}

/** A refusal as data (DatapathRejected crosses the thread boundary this way). */
export interface WireError {
  field: string;
  reason: string;
}

/** The state the admin thread serves synchronously. */
export interface Snapshot {
  ports: Record<string, PortStatus>;
  counters: CounterSample[];
}

/** Messages from the worker. */
export type WorkerMessage =
  | { t: "ready" }
  | { t: "initError"; message: string }
  | { t: "snap"; snap: Snapshot }
  | { t: "cap"; tap: number; chunk: CaptureChunk }
  | NeighbourRelay
  | { t: "res"; id: number; ok: true; value: unknown; snap?: Snapshot }
  | { t: "res"; id: number; ok: false; error: WireError };

/** Result of one change in an apply batch: null when applied. */
export type ApplyResult = WireError | null;
