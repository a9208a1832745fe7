// How a packet's processing ends when it does not pass: the drop and error reasons the engine
// itself produces, and the one place that writes a drop or error into the result, the counters
// and (while tracing) the trace. Shared by the fast path, the slow path and flow setup.

import type { Layer } from "./layer.ts";
import { type Direction, type ProcessResult, RES_DROP, RES_ERROR } from "./packet.ts";
import { type Reason, reason } from "./reason.ts";
import type { Rule } from "./rule.ts";
import type { PortStats, TraceStep } from "./stats.ts";
import type { HeaderTransform } from "./transform.ts";

/** Drop reasons the engine itself produces (layers add their own from rules). */
export const DROP_DEFAULT = reason("default deny");
export const DROP_RULE = reason("rule deny");
export const DROP_LFT_FULL = reason("lft full");
export const DROP_UFT_FULL = reason("uft full");
export const DROP_TCP_FULL = reason("tcp table full");
/** Error reasons the engine itself produces (transforms add theirs). */
export const ERR_STATEFUL_NON_IP = reason("stateful action on non-IP packet");
export const ERR_ACTION_THREW = reason("action threw");
/** Error for a packet given to a port that is not Running. */
export const ERR_NOT_RUNNING = reason("port not running");

/** Records drops and errors of one port, and the steps of a traced packet. */
export class Outcome {
  /** Steps of the packet being traced, null when not tracing. */
  tracing: TraceStep[] | null = null;
  /**
   * A dry run (Port.dryRun): decisions are recorded but no counter moves (and the slow path
   * creates no flows).
   */
  dry = false;
  /** The last exception an action generator or body transform threw (for diagnosis). */
  lastThrown: unknown = null;

  constructor(private readonly stats: PortStats) {}

  /** Records a drop in `res` and the counters. */
  drop(res: ProcessResult, L: Layer | null, rule: number, why: Reason, dir: Direction): number {
    res.code = RES_DROP;
    res.layer = L ? L.name : "";
    res.rule = rule;
    res.cause = why;
    if (!this.dry) {
      if (L) L.stats.dir(dir).drops++;
      this.stats.countDrop(why);
    }
    if (this.tracing) {
      this.step(L ? L.name : "", "drop", rule, why.name, null, L ? L.ruleById(rule) : null);
    }
    return RES_DROP;
  }

  /** Records an error in `res` and the counters. */
  error(res: ProcessResult, why: Reason): number {
    res.code = RES_ERROR;
    res.cause = why;
    if (!this.dry) this.stats.countError(why);
    if (this.tracing) this.step("", "error", -1, why.name, null);
    return RES_ERROR;
  }

  /** Appends a trace step (only while tracing). */
  step(
    layer: string,
    via: string,
    rule: number,
    action: string,
    x: HeaderTransform | null,
    r: Rule | null = null,
  ): void {
    const step: TraceStep = { layer, via, rule, action, transform: x?.name };
    if (r !== null && r.spec.ref !== undefined) step.ref = r.spec.ref;
    this.tracing!.push(step);
  }
}
