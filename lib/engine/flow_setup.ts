// Flow setup after the slow path: TCP tracking of a new or changed connection and the UFT
// entry (with its compiled plan) every later packet of the flow hits. Runs once per flow, so
// allocation is fine here.

import { FlowId } from "../packet/flow.ts";
import { PROTO_TCP } from "../packet/checksum.ts";
import { FRAG_LATER } from "../packet/meta.ts";
import type { FlowState } from "./flows.ts";
import {
  DIR_IN,
  DIR_OUT,
  type Direction,
  flowOfLevel,
  type Packet,
  type ProcessResult,
  RES_MODIFIED,
} from "./packet.ts";
import { DROP_TCP_FULL, DROP_UFT_FULL, type Outcome } from "./outcome.ts";
import { CompiledPlan, compilePlan, samePlan } from "./plan.ts";
import type { PortStats } from "./stats.ts";
import { TCP_NOW_CLOSED, TCP_REUSE, TcpFlow, tcpStep } from "./tcp.ts";
import type { HeaderTransform } from "./transform.ts";
import { type LftPair, UftEntry } from "./uft.ts";

/** Turns an allowed slow-path walk into TCP state and a UFT entry. */
export class FlowSetup {
  private readonly after = new FlowId();
  private readonly mirror = new FlowId();
  private readonly other = new FlowId();
  // Per direction, the last entry's list and plan: consecutive flows through the same rules
  // share them (per direction, as a connection's two entries alternate and never match).
  private readonly lastList: (readonly HeaderTransform[])[] = [NO_TRANSFORMS, NO_TRANSFORMS];
  private readonly lastPlan: (CompiledPlan | null)[] = [null, null];
  // Plans compile here; a new object is made only when the plan differs from the last one.
  private scratch = new CompiledPlan();

  constructor(
    private readonly flows: FlowState,
    private readonly stats: PortStats,
    private readonly out: Outcome,
  ) {}

  /** True for a TCP segment (not RST) of an untracked flow that finds no room in the table. */
  refusesNewTcp(pkt: Packet, key: FlowId, now: number): boolean {
    const lv = pkt.meta.flow;
    if (lv.proto !== PROTO_TCP || lv.l4 < 0 || lv.fragment === FRAG_LATER) return false;
    if ((lv.tcpFlags & 0x04) !== 0 || this.flows.tcp.get(key) !== null) return false;
    return !this.flows.tcpRoom(now);
  }

  /** After every layer allowed an IP packet: TCP tracking and the UFT entry. */
  finish(
    dir: Direction,
    pkt: Packet,
    flowIn: FlowId,
    portsOk: boolean,
    encapIn: boolean,
    list: HeaderTransform[],
    lfts: LftPair[],
    now: number,
    res: ProcessResult,
  ): number {
    const lv = pkt.meta.flow;
    const after = this.after;
    flowOfLevel(pkt.buf, lv, after);
    let tf: TcpFlow | null = null;
    if (lv.proto === PROTO_TCP && lv.l4 >= 0 && lv.fragment !== FRAG_LATER) {
      const key = dir === DIR_OUT ? flowIn : after.mirrorInto(this.mirror);
      tf = this.flows.tcp.get(key);
      if (tf !== null && this.flows.tcpExpired(tf, now)) {
        this.stats.tcpExpired++;
        this.flows.removeTcp(tf);
        tf = null;
      }
      if (tf === null && (lv.tcpFlags & 0x04) !== 0) return RES_MODIFIED;
      let r = 0;
      if (tf !== null) {
        r = tcpStep(tf, dir, pkt.buf, lv);
        if (r === TCP_REUSE) {
          this.stats.tcpReuse++;
          this.flows.removeTcp(tf);
          tf = null;
        }
      }
      if (tf === null) {
        tf = new TcpFlow();
        tf.opener = dir;
        tf.lastHit = now;
        if (!this.flows.insertTcp(tf, key, now)) {
          this.stats.tcpFull++;
          return this.out.drop(res, null, -1, DROP_TCP_FULL, dir);
        }
        r = tcpStep(tf, dir, pkt.buf, lv);
      }
      tf.lastHit = now;
      for (const p of lfts) p.tcp = tf;
      if (r === TCP_NOW_CLOSED) {
        this.stats.tcpClosed++;
        this.flows.removeTcp(tf);
        return RES_MODIFIED;
      }
    }
    let plan = compilePlan(list, flowIn, portsOk, encapIn, this.scratch);
    const last = this.lastPlan[dir];
    if (plan === null) this.stats.uftReplay++;
    else if (last !== null && samePlan(plan, last)) plan = last;
    else this.lastPlan[dir] = plan, this.scratch = new CompiledPlan();
    const e = new UftEntry(
      dir,
      this.flows.epoch,
      this.keepList(dir, list),
      plan,
      tf,
      keepPairs(lfts),
    );
    if (plan !== null && plan.push !== null) pushEntropy(list, e);
    if (!this.flows.insertUft(e, flowIn, now)) {
      this.stats.uftFull++;
      return this.out.drop(res, null, -1, DROP_UFT_FULL, dir);
    }
    res.entry = e;
    if (tf !== null) {
      const old = tf.uft[dir];
      if (old !== null && old !== e) this.flows.removeUft(old, false);
      tf.uft[dir] = e;
    }
    const other = this.flows.uft[dir === DIR_OUT ? DIR_IN : DIR_OUT].get(
      after.mirrorInto(this.other),
    );
    if (other !== null) {
      e.pair = other;
      other.pair = e;
    }
    return RES_MODIFIED;
  }

  /** `list` as an immutable exact-size array, shared with the previous entry when equal. */
  private keepList(dir: Direction, list: HeaderTransform[]): readonly HeaderTransform[] {
    const last = this.lastList[dir];
    if (last.length === list.length) {
      let same = true;
      for (let i = 0; i < list.length && same; i++) same = last[i] === list[i];
      if (same) return last;
    }
    return this.lastList[dir] = list.length === 0 ? NO_TRANSFORMS : list.slice();
  }
}

const NO_TRANSFORMS: readonly HeaderTransform[] = Object.freeze([]);
const NO_PAIRS: readonly LftPair[] = Object.freeze([]);

function keepPairs(lfts: LftPair[]): readonly LftPair[] {
  return lfts.length === 0 ? NO_PAIRS : lfts.slice();
}

/** The entropy of the push in `list` into `e` (its `pushSrcPort`/`pushFlowLabel`; -1 for none). */
function pushEntropy(list: readonly HeaderTransform[], e: UftEntry): void {
  for (let i = 0; i < list.length; i++) {
    const o = list[i].outer;
    if (o !== undefined && o.op === "push") {
      e.pushSrcPort = o.srcPort ?? -1;
      e.pushFlowLabel = o.flowLabel ?? -1;
    }
  }
}
