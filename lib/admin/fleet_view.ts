// What the admin plane sees of fleet mode (lib/fleet implements it): where an entry comes from,
// the outcome of applying fleet changes, and the agent's status, health and metrics.

import type { Change } from "../config/resources.ts";
import type { CounterSample } from "../contract/datapath.ts";

/** Where an entry of the effective state comes from. */
export type Source = "config" | "api" | "fleet";

/** What became of one fleet change. */
export interface FleetApplied {
  change: Change;
  /** applied; unchanged (already so); shadowed (a local entry differs and wins); rejected. */
  outcome: "applied" | "unchanged" | "shadowed" | "rejected";
  reason?: string;
}

/** The fleet agent as the admin API shows it. */
export interface FleetView {
  /** `GET /v1/fleet`, `xdeno fleet status`. */
  status(): Record<string, unknown>;
  /** The `fleet` detail of /healthz. */
  health(): Record<string, unknown>;
  /** Fleet metrics for /metrics. */
  samples(): CounterSample[];
}
