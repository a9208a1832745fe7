// Entries of the unified flow table and of the layer flow tables.

import type { Direction } from "./packet.ts";
import type { CompiledPlan } from "./plan.ts";
import type { ActionDesc } from "./rule.ts";
import type { TcpFlow } from "./tcp.ts";
import type { HeaderTransform } from "./transform.ts";

/** One UFT entry: the combined transformation for a flow entering the port in `dir`. */
export class UftEntry {
  /** The opposite direction's entry of the same connection, when both exist. */
  pair: UftEntry | null = null;
  hits = 0;
  live = true;
  /** Index in the UFT (valid while `live`). */
  idx = -1;
  constructor(
    readonly dir: Direction,
    readonly epoch: number,
    /** The transforms in the order the layers applied them (replayed when `plan` is null). */
    readonly list: readonly HeaderTransform[],
    readonly plan: CompiledPlan | null,
    readonly tcp: TcpFlow | null,
    /** The LFT pairs this flow went through; kept alive by hits, and the entry dies with them. */
    readonly lfts: readonly LftPair[],
  ) {}
}

/** An LFT pair: one in and one out entry sharing a lifetime and a stateful action's desc. */
export class LftPair {
  lastHit: number;
  live = true;
  /** The TCP connection this pair serves, which keeps it alive while established. */
  tcp: TcpFlow | null = null;
  /** Indices of the out and in entries in the layer's LFTs (valid while `live`). */
  outIdx = -1;
  inIdx = -1;
  constructor(
    /** Layer name (for dumps). */
    readonly layer: string,
    readonly desc: ActionDesc,
    /** Rule id that created the pair, -1 for the layer default. */
    readonly rule: number,
    now: number,
  ) {
    this.lastHit = now;
  }
}
