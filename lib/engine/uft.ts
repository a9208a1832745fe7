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
  /**
   * Last packet time (clock ms). Kept on the entry, which the fast path reads anyway, rather than
   * in the table's array: at a million flows that is one random memory read fewer per packet.
   */
  lastHit = 0;
  live = true;
  /**
   * True when one of `lfts` could not record this entry as a user (it has two already): then the
   * fast path checks and refreshes the pairs itself. Otherwise it need not touch them at all —
   * a pair's idle time includes its users' `lastHit`, and a dying pair removes its users.
   */
  touch = false;
  /** Index in the UFT (valid while `live`). */
  idx = -1;
  /**
   * What the switch forwards this flow by (its underlay next hop), cached so that a hit needs no
   * route lookup and no second flow hash. Opaque to the engine; valid while `nextHopGen`
   * equals the switch's route generation.
   */
  nextHop: object | null = null;
  nextHopGen = -1;
  /** This flow's tunnel entropy for its plan's push (UDP source port, IPv6 flow label; -1: none). */
  pushSrcPort = -1;
  pushFlowLabel = -1;
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
  /** Up to two live UFT entries built through this pair (typically one per direction). */
  u0: UftEntry | null = null;
  u1: UftEntry | null = null;
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

/** When the pair was last used: its own LFT hits, or a fast-path hit of one of its users. */
export function pairLastHit(p: LftPair): number {
  let t = p.lastHit;
  if (p.u0 !== null && p.u0.lastHit > t) t = p.u0.lastHit;
  if (p.u1 !== null && p.u1.lastHit > t) t = p.u1.lastHit;
  return t;
}
