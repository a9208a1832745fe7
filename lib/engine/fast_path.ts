// The fast path: a packet whose flow has a usable UFT entry gets the entry's compiled plan (or
// its replayed transform list), its TCP state stepped and its pairs kept alive. Nothing here
// allocates per packet.

import type { FlowId } from "../packet/flow.ts";
import { FRAG_LATER } from "../packet/meta.ts";
import type { FlowState } from "./flows.ts";
import { ERR_ACTION_THREW, type Outcome } from "./outcome.ts";
import { type Direction, type Packet, type ProcessResult, RES_MODIFIED } from "./packet.ts";
import { applyPlan, replayList } from "./plan.ts";
import type { Reason } from "./reason.ts";
import type { SlowPath } from "./slow_path.ts";
import type { PortStats } from "./stats.ts";
import { TCP_NOW_CLOSED, TCP_REUSE, tcpStep } from "./tcp.ts";
import type { UftEntry } from "./uft.ts";

/** The UFT-hit path of one port. */
export class FastPath {
  constructor(
    private readonly flows: FlowState,
    private readonly stats: PortStats,
    private readonly slow: SlowPath,
    private readonly out: Outcome,
  ) {}

  /**
   * Applies UFT entry `e` to `pkt` (`flow` is the packet's flow as it entered the port). A SYN
   * reusing a closed connection's tuple goes to the slow path instead.
   */
  run(dir: Direction, pkt: Packet, e: UftEntry, flow: FlowId, now: number, res: ProcessResult) {
    if (e.touch) {
      const lfts = e.lfts;
      for (let i = 0; i < lfts.length; i++) lfts[i].lastHit = now;
    }
    const tf = e.tcp;
    let closed = false;
    if (tf !== null) {
      const lv = pkt.meta.flow;
      if (lv.l4 >= 0 && lv.fragment !== FRAG_LATER) {
        const r = tcpStep(tf, dir, pkt.buf, lv);
        if (r === TCP_REUSE) {
          this.stats.tcpReuse++;
          this.flows.removeTcp(tf);
          this.stats.uftMiss[dir]++;
          return this.slow.run(dir, pkt, true, now, flow, res);
        }
        closed = r === TCP_NOW_CLOSED;
      }
      tf.lastHit = now;
    }
    e.hits++;
    const err = e.plan !== null
      ? applyPlan(pkt, e.plan, e.pushSrcPort, e.pushFlowLabel)
      : this.replay(pkt, e);
    if (err !== null) return this.out.error(res, err);
    if (closed) {
      this.stats.tcpClosed++;
      this.flows.removeTcp(tf!);
    }
    this.stats.uftHit[dir]++;
    res.fastPath = true;
    res.entry = e;
    if (this.out.tracing !== null) {
      this.out.tracing.push({
        layer: "",
        via: "uft",
        rule: -1,
        action: e.plan ? "plan" : "replay",
      });
    }
    return RES_MODIFIED;
  }

  private replay(pkt: Packet, e: UftEntry): Reason | null {
    try {
      return replayList(pkt, e.list);
    } catch (x) {
      this.out.lastThrown = x;
      return ERR_ACTION_THREW;
    }
  }
}
