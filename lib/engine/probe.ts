// Looking at a port's decisions: a traced `process` (real, flows may be created) and a dry run
// through the live tables that changes nothing (OPTE's probes, as a call). Both record steps
// through the port's Outcome; neither is on the packet path.

import { FlowId } from "../packet/flow.ts";
import type { FlowState } from "./flows.ts";
import { ERR_NOT_RUNNING, type Outcome } from "./outcome.ts";
import { type Direction, flowOfLevel, type Packet, ProcessResult, RES_ERROR } from "./packet.ts";
import type { SlowPath } from "./slow_path.ts";
import type { TraceStep } from "./stats.ts";

/** What a dry run found: the result code, each layer's decision and the result's details. */
export interface DryRun {
  /** RES_MODIFIED, RES_DROP, RES_HAIRPIN or RES_ERROR. */
  code: number;
  steps: TraceStep[];
  /** Layer and rule id that dropped or hairpinned ("" and -1 otherwise). */
  layer: string;
  rule: number;
  reason: string;
  /** The reply a hairpin would send. */
  hairpin: Uint8Array | null;
}

/** A traced packet: the result code, the result's details and every decision on the way. */
export interface Traced {
  code: number;
  result: object;
  steps: TraceStep[];
}

/** Runs `process` with `out` recording every step. */
export function traceProcess(
  process: () => number,
  res: ProcessResult,
  out: Outcome,
): Traced {
  const steps: TraceStep[] = [];
  out.tracing = steps;
  try {
    const code = process();
    return {
      code,
      result: {
        code,
        fastPath: res.fastPath,
        layer: res.layer,
        rule: res.rule,
        reason: res.reason,
      },
      steps,
    };
  } finally {
    out.tracing = null;
  }
}

/** The parts of a port a dry run reads. */
export interface ProbeTarget {
  readonly running: boolean;
  readonly now: number;
  readonly flows: FlowState;
  readonly slow: SlowPath;
  readonly out: Outcome;
}

/**
 * The slow path of `pkt` in dry mode (no flows, no counters, resources given back), after a
 * note of the usable UFT entry it would hit. `pkt` is rewritten: pass a copy.
 */
export function dryRun(t: ProbeTarget, dir: Direction, pkt: Packet): DryRun {
  const res = new ProcessResult();
  const steps: TraceStep[] = [];
  const out = t.out, saved = out.tracing;
  if (!t.running) {
    const reason = ERR_NOT_RUNNING.name;
    steps.push({ layer: "", via: "error", rule: -1, action: reason });
    return { code: RES_ERROR, steps, layer: "", rule: -1, reason, hairpin: null };
  }
  const now = t.now;
  const flow = new FlowId();
  const isIp = flowOfLevel(pkt.buf, pkt.meta.flow, flow);
  if (isIp) {
    const e = t.flows.uft[dir].get(flow);
    if (e !== null && t.flows.usable(e, now)) {
      steps.push({ layer: "", via: "uft", rule: -1, action: `cached flow, ${e.hits} hits` });
    }
  }
  out.tracing = steps;
  out.dry = true;
  try {
    const code = t.slow.run(dir, pkt, isIp, now, flow, res);
    const { layer, rule, reason, hairpin } = res;
    return { code, steps, layer, rule, reason, hairpin };
  } finally {
    out.tracing = saved;
    out.dry = false;
  }
}
