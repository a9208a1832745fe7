// The slow path: a packet that missed the UFT walks the layers (LFT, then rules), collects the
// transforms it went through, and, when every layer allowed an IP packet, gets TCP tracking and
// a UFT entry. Allocation here is fine; it runs once per flow, not per packet.

import { FlowId } from "../packet/flow.ts";
import { PROTO_TCP } from "../packet/checksum.ts";
import { FRAG_LATER } from "../packet/meta.ts";
import type { FlowState } from "./flows.ts";
import type { Layer } from "./layer.ts";
import {
  DIR_IN,
  DIR_OUT,
  type Direction,
  flowOfLevel,
  type Packet,
  type ProcessResult,
  RES_DROP,
  RES_ERROR,
  RES_HAIRPIN,
  RES_MODIFIED,
} from "./packet.ts";
import { type CompiledPlan, compilePlan, samePlan } from "./plan.ts";
import { ActionMeta } from "./predicate.ts";
import type { ActionCtx, ActionDesc, Rule } from "./rule.ts";
import { actionName, defaultAction, isDeny } from "./rule.ts";
import { TCP_NOW_CLOSED, TCP_REUSE, TcpFlow, tcpStep } from "./tcp.ts";
import { applyTransform, hasPorts, type HeaderTransform } from "./transform.ts";
import { LftPair, UftEntry } from "./uft.ts";
import type { PortStats, TraceStep } from "./stats.ts";

/** Drop reasons the engine itself produces (layers add their own from rules). */
export const DROP_DEFAULT = "default deny";
export const DROP_RULE = "rule deny";
export const DROP_LFT_FULL = "lft full";
export const DROP_UFT_FULL = "uft full";
export const DROP_TCP_FULL = "tcp table full";
export const ERR_STATEFUL_NON_IP = "stateful action on non-IP packet";
export const ERR_ACTION_THREW = "action threw";

const IDENTITY: ActionDesc = { name: "stateful-allow", transform: () => null };

/** The slow path of one port, with its reusable scratch state. */
export class SlowPath {
  /** Steps of the packet being traced, null when not tracing. */
  tracing: TraceStep[] | null = null;
  /**
   * A dry run (Port.dryRun): the walk records its decisions but creates no flows, moves no
   * counters and takes no resource it does not give back at once.
   */
  dry = false;
  /** The last exception an action generator or body transform threw (for diagnosis). */
  lastThrown: unknown = null;
  private readonly am = new ActionMeta();
  private readonly flowIn = new FlowId();
  private readonly lflow = new FlowId();
  private readonly lflow2 = new FlowId();
  private readonly before = new FlowId();
  private readonly mirror = new FlowId();
  private readonly after = new FlowId();
  private readonly ctx: ActionCtx;
  private readonly created: LftPair[] = [];
  // Per-walk scratch; a UFT entry gets exact-size copies (a grown array costs ~180 bytes).
  private readonly list: HeaderTransform[] = [];
  private readonly lfts: LftPair[] = [];
  // The last entry's list and plan: consecutive flows through the same rules share them.
  private lastList: readonly HeaderTransform[] = NO_TRANSFORMS;
  private lastPlan: CompiledPlan | null = null;

  constructor(
    private readonly layers: readonly Layer[],
    private readonly byName: ReadonlyMap<string, Layer>,
    private readonly flows: FlowState,
    private readonly stats: PortStats,
  ) {
    this.ctx = { pkt: null as unknown as Packet, flow: this.lflow, dir: DIR_OUT, meta: this.am };
  }

  /**
   * Runs the layers for a packet that missed the UFT (`entry` is its flow as it entered the
   * port). Pairs created for a packet that is then dropped, hairpinned or fails die at once, so
   * a resource taken by an earlier layer is not held for a flow that never passed.
   */
  run(
    dir: Direction,
    pkt: Packet,
    isIp: boolean,
    now: number,
    entry: FlowId,
    res: ProcessResult,
  ): number {
    this.flowIn.copyFrom(entry);
    // As upstream, a new outbound connection the TCP table has no room for is refused before
    // the layers run: no pair (or SNAT port) is taken for it.
    if (isIp && dir === DIR_OUT && this.flows.tcp.full && this.newTcp(pkt, entry, now)) {
      this.stats.tcpFull++;
      return this.drop(res, null, -1, DROP_TCP_FULL, dir);
    }
    const created = this.created;
    if (created.length !== 0) created.length = 0;
    let code: number;
    try {
      code = this.walk(dir, pkt, isIp, now, res);
    } catch (e) {
      // A layer's generator threw: a bug in the network implementation, never a reason to let a
      // packet take the datapath down. Counted and reported as an error result.
      this.lastThrown = e;
      code = this.error(res, ERR_ACTION_THREW);
    }
    if (code !== RES_MODIFIED) {
      for (const p of created) this.flows.killPair(this.byName.get(p.layer)!, p);
    }
    if (created.length !== 0) created.length = 0;
    return code;
  }

  private walk(dir: Direction, pkt: Packet, isIp: boolean, now: number, res: ProcessResult) {
    const am = this.am;
    am.clear();
    const flowIn = this.flowIn;
    const portsOk = hasPorts(pkt.meta.flow);
    const encapIn = pkt.meta.encap;
    const list = this.list, lfts = this.lfts;
    // Filled by index and cut to size only for a new flow: `length = 0` would free the arrays'
    // storage and the next push allocate it again, on every packet of a denied flood.
    let nList = 0, nLfts = 0;
    const layers = this.layers;
    const n = layers.length;
    const ctx = this.ctx;
    ctx.pkt = pkt;
    ctx.dir = dir;
    for (let k = 0; k < n; k++) {
      const L = layers[dir === DIR_OUT ? k : n - 1 - k];
      const ls = L.stats.dir(dir);
      const lflow = this.lflow;
      if (isIp) {
        flowOfLevel(pkt.buf, pkt.meta.flow, lflow);
        const t = L.lft[dir];
        // Layers without stateful rules keep an empty LFT: skip hashing the flow for them.
        const slot = t.size === 0 ? -1 : t.find(lflow);
        if (slot >= 0) {
          const pair = t.valueAt(slot)!;
          const dry = this.dry;
          if (this.flows.pairExpired(pair, now)) {
            if (!dry) {
              L.stats.lftExpired++;
              this.flows.killPair(L, pair);
            }
          } else {
            if (!dry) {
              ls.lftHit++;
              pair.lastHit = now;
            }
            lfts[nLfts++] = pair;
            const x = pair.desc.transform(dir);
            if (this.tracing) {
              const r = L.ruleById(pair.rule);
              this.trace1(L.name, "lft", pair.rule, pair.desc.name ?? "stateful", x, r);
            }
            if (x !== null) {
              const err = applyTransform(pkt, x);
              if (err !== null) return this.error(res, err);
              list[nList++] = x;
            }
            continue;
          }
        }
        if (!this.dry) ls.lftMiss++;
      }
      const rule = L.rules[dir].find(pkt, am);
      const action = rule !== null ? rule.action : defaultAction(L.defaults[dir]);
      if (!this.dry) {
        if (rule !== null) {
          rule.hits++;
          ls.ruleHits++;
        } else ls.defaultHits++;
      }
      const ruleId = rule === null ? -1 : rule.id;
      if (this.tracing) {
        this.trace1(
          L.name,
          rule ? "rule" : "default",
          ruleId,
          actionName(rule, action),
          null,
          rule,
        );
      }
      ctx.flow = lflow;
      switch (action.kind) {
        case "allow":
          break;
        case "deny":
          return this.drop(res, L, ruleId, action.reason ?? (rule ? DROP_RULE : DROP_DEFAULT), dir);
        case "meta":
          action.set(ctx);
          break;
        case "static": {
          const x = action.gen(ctx);
          if (x === null) break;
          if (isDeny(x)) return this.drop(res, L, ruleId, x.deny, dir);
          const err = applyTransform(pkt, x);
          if (err !== null) return this.error(res, err);
          list[nList++] = x;
          break;
        }
        case "statefulAllow":
        case "stateful": {
          if (!isIp) {
            if (action.kind === "statefulAllow") break;
            return this.error(res, ERR_STATEFUL_NON_IP);
          }
          const before = this.before.copyFrom(lflow);
          let desc = IDENTITY;
          if (action.kind === "stateful") {
            const d = action.gen(ctx);
            if (isDeny(d)) return this.drop(res, L, ruleId, d.deny, dir);
            desc = d;
            const x = desc.transform(dir);
            if (x !== null) {
              const err = applyTransform(pkt, x);
              if (err !== null) {
                desc.release?.();
                return this.error(res, err);
              }
              list[nList++] = x;
            }
          }
          if (this.dry) {
            // What the pair would carry is shown; the resource it took goes back at once.
            desc.release?.();
            break;
          }
          const after = this.lflow2;
          flowOfLevel(pkt.buf, pkt.meta.flow, after);
          const mirror = after.mirrorInto(this.mirror);
          const pair = new LftPair(L.name, desc, ruleId, now);
          const ok = dir === DIR_OUT
            ? this.flows.insertPair(L, pair, before, mirror, now)
            : this.flows.insertPair(L, pair, mirror, before, now);
          if (!ok) {
            desc.release?.();
            L.stats.lftFull++;
            return this.drop(res, L, ruleId, DROP_LFT_FULL, dir);
          }
          lfts[nLfts++] = pair;
          this.created.push(pair);
          break;
        }
        case "hairpin": {
          const h = action.gen(ctx);
          if (isDeny(h)) return this.drop(res, L, ruleId, h.deny, dir);
          if (!this.dry) {
            ls.hairpins++;
            this.stats.hairpins++;
          }
          res.code = RES_HAIRPIN;
          res.layer = L.name;
          res.rule = ruleId;
          res.hairpin = h;
          return RES_HAIRPIN;
        }
      }
    }
    if (!isIp) return RES_MODIFIED;
    if (list.length !== nList) list.length = nList;
    if (lfts.length !== nLfts) lfts.length = nLfts;
    if (this.dry) return RES_MODIFIED;
    return this.finishFlow(dir, pkt, flowIn, portsOk, encapIn, list, lfts, now, res);
  }

  /** True for a TCP segment (not RST) of an untracked flow that finds no room in the table. */
  private newTcp(pkt: Packet, key: FlowId, now: number): boolean {
    const lv = pkt.meta.flow;
    if (lv.proto !== PROTO_TCP || lv.l4 < 0 || lv.fragment === FRAG_LATER) return false;
    if ((lv.tcpFlags & 0x04) !== 0 || this.flows.tcp.get(key) !== null) return false;
    return !this.flows.tcpRoom(now);
  }

  /** After every layer allowed an IP packet: TCP tracking and the UFT entry. */
  private finishFlow(
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
          return this.drop(res, null, -1, DROP_TCP_FULL, dir);
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
    let plan = compilePlan(list, flowIn, portsOk, encapIn);
    if (plan === null) this.stats.uftReplay++;
    else if (this.lastPlan !== null && samePlan(plan, this.lastPlan)) plan = this.lastPlan;
    else this.lastPlan = plan;
    const e = new UftEntry(dir, this.flows.epoch, this.keepList(list), plan, tf, keepPairs(lfts));
    if (!this.flows.insertUft(e, flowIn, now)) {
      this.stats.uftFull++;
      return this.drop(res, null, -1, DROP_UFT_FULL, dir);
    }
    res.entry = e;
    if (tf !== null) {
      const old = tf.uft[dir];
      if (old !== null && old !== e) this.flows.removeUft(old, false);
      tf.uft[dir] = e;
    }
    const other = this.flows.uft[dir === DIR_OUT ? DIR_IN : DIR_OUT].get(
      after.mirrorInto(this.lflow2),
    );
    if (other !== null) {
      e.pair = other;
      other.pair = e;
    }
    return RES_MODIFIED;
  }

  /** `list` as an immutable exact-size array, shared with the previous entry when equal. */
  private keepList(list: HeaderTransform[]): readonly HeaderTransform[] {
    const last = this.lastList;
    if (last.length === list.length) {
      let same = true;
      for (let i = 0; i < list.length && same; i++) same = last[i] === list[i];
      if (same) return last;
    }
    return this.lastList = list.length === 0 ? NO_TRANSFORMS : list.slice();
  }

  /** Records a drop in `res` and the counters. */
  drop(res: ProcessResult, L: Layer | null, rule: number, reason: string, dir: Direction) {
    res.code = RES_DROP;
    res.layer = L ? L.name : "";
    res.rule = rule;
    res.reason = reason;
    if (!this.dry) {
      if (L) L.stats.dir(dir).drops++;
      this.stats.countDrop(reason);
    }
    if (this.tracing) {
      this.trace1(L ? L.name : "", "drop", rule, reason, null, L ? L.ruleById(rule) : null);
    }
    return RES_DROP;
  }

  /** Records an error in `res` and the counters. */
  error(res: ProcessResult, reason: string): number {
    res.code = RES_ERROR;
    res.reason = reason;
    if (!this.dry) this.stats.countError(reason);
    if (this.tracing) this.trace1("", "error", -1, reason, null);
    return RES_ERROR;
  }

  /** Appends a trace step (only while tracing). */
  trace1(
    layer: string,
    via: string,
    rule: number,
    action: string,
    x: HeaderTransform | null,
    r: Rule | null = null,
  ) {
    const step: TraceStep = { layer, via, rule, action, transform: x?.name };
    if (r !== null && r.spec.ref !== undefined) step.ref = r.spec.ref;
    this.tracing!.push(step);
  }
}

const NO_TRANSFORMS: readonly HeaderTransform[] = Object.freeze([]);
const NO_PAIRS: readonly LftPair[] = Object.freeze([]);

function keepPairs(lfts: LftPair[]): readonly LftPair[] {
  return lfts.length === 0 ? NO_PAIRS : lfts.slice();
}
