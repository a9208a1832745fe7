// Port counters and trace records.

import { type Reason, ReasonCounts } from "./reason.ts";

/** One step of a traced packet: which layer decided what, through which rule. */
export interface TraceStep {
  /** Layer name ("" for the UFT and port-level decisions). */
  layer: string;
  /** "uft", "lft", "rule", "default", "drop" or "error". */
  via: string;
  /** Rule id, -1 for defaults and flow-table hits. */
  rule: number;
  /** The operator's id of the rule (a firewall rule's API id), when it has one. */
  ref?: number;
  /** Action kind or name (for drops: the reason). */
  action: string;
  /** Name of the transform applied, when one was. */
  transform?: string;
}

/** Counters of one port. Direction-indexed arrays are [out, in]. */
export class PortStats {
  readonly uftHit = new Float64Array(2);
  readonly uftMiss = new Float64Array(2);
  /** Entries found with an old epoch, a dead TCP flow or a dead LFT pair, and rebuilt. */
  uftStale = 0;
  uftExpired = 0;
  uftFull = 0;
  /** UFT entries whose transform list did not compile (they replay the list). */
  uftReplay = 0;
  uftEvictions = 0;
  /** Full scans for an eviction victim (UFT, TCP table or an LFT), fruitful or not. */
  evictScans = 0;
  tcpFull = 0;
  tcpEvictions = 0;
  tcpExpired = 0;
  tcpClosed = 0;
  tcpReuse = 0;
  hairpins = 0;
  /** Drops by reason. */
  readonly drops = new ReasonCounts();
  /** Errors by reason. */
  readonly errors = new ReasonCounts();

  /** Counts one drop. */
  countDrop(reason: Reason): void {
    this.drops.add(reason);
  }

  /** Counts one error. */
  countError(reason: Reason): void {
    this.errors.add(reason);
  }

  /** A plain snapshot. */
  toJSON(): Record<string, unknown> {
    return {
      uftHit: { out: this.uftHit[0], in: this.uftHit[1] },
      uftMiss: { out: this.uftMiss[0], in: this.uftMiss[1] },
      uftStale: this.uftStale,
      uftExpired: this.uftExpired,
      uftFull: this.uftFull,
      uftReplay: this.uftReplay,
      uftEvictions: this.uftEvictions,
      evictScans: this.evictScans,
      tcpFull: this.tcpFull,
      tcpEvictions: this.tcpEvictions,
      tcpExpired: this.tcpExpired,
      tcpClosed: this.tcpClosed,
      tcpReuse: this.tcpReuse,
      hairpins: this.hairpins,
      drops: this.drops.toJSON(),
      errors: this.errors.toJSON(),
    };
  }
}
