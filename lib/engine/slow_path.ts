// The slow path: a packet that missed the UFT walks the layers (LFT, then rules), collects the
// transforms it went through, and, when every layer allowed an IP packet, gets TCP tracking and
// a UFT entry. Allocation here is fine; it runs once per flow, not per packet.

import { FlowId } from "../packet/flow.ts";
import type { FlowState } from "./flows.ts";
import { FlowSetup } from "./flow_setup.ts";
import type { Layer } from "./layer.ts";
import {
  DIR_OUT,
  type Direction,
  flowOfLevel,
  type Packet,
  type ProcessResult,
  RES_HAIRPIN,
  RES_MODIFIED,
} from "./packet.ts";
import {
  DROP_DEFAULT,
  DROP_LFT_FULL,
  DROP_RULE,
  DROP_TCP_FULL,
  ERR_ACTION_THREW,
  ERR_STATEFUL_NON_IP,
  type Outcome,
} from "./outcome.ts";
import { ActionMeta } from "./predicate.ts";
import type { ActionCtx, ActionDesc } from "./rule.ts";
import { actionName, defaultAction, isDeny } from "./rule.ts";
import { applyTransform, hasPorts, type HeaderTransform } from "./transform.ts";
import { LftPair } from "./uft.ts";
import type { PortStats } from "./stats.ts";

const IDENTITY: ActionDesc = { name: "stateful-allow", transform: () => null };

/** The slow path of one port, with its reusable scratch state. */
export class SlowPath {
  private readonly am = new ActionMeta();
  private readonly flowIn = new FlowId();
  private readonly lflow = new FlowId();
  private readonly lflow2 = new FlowId();
  private readonly before = new FlowId();
  private readonly mirror = new FlowId();
  private readonly ctx: ActionCtx;
  private readonly setup: FlowSetup;
  private readonly created: LftPair[] = [];
  // Per-walk scratch; a UFT entry gets exact-size copies (a grown array costs ~180 bytes).
  private readonly list: HeaderTransform[] = [];
  private readonly lfts: LftPair[] = [];

  constructor(
    private readonly layers: readonly Layer[],
    private readonly byName: ReadonlyMap<string, Layer>,
    private readonly flows: FlowState,
    private readonly stats: PortStats,
    private readonly out: Outcome,
  ) {
    this.ctx = { pkt: null as unknown as Packet, flow: this.lflow, dir: DIR_OUT, meta: this.am };
    this.setup = new FlowSetup(flows, stats, out);
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
    if (
      isIp && dir === DIR_OUT && this.flows.tcp.full && this.setup.refusesNewTcp(pkt, entry, now)
    ) {
      this.stats.tcpFull++;
      return this.out.drop(res, null, -1, DROP_TCP_FULL, dir);
    }
    const created = this.created;
    if (created.length !== 0) created.length = 0;
    let code: number;
    try {
      code = this.walk(dir, pkt, isIp, now, res);
    } catch (e) {
      // A layer's generator threw: a bug in the network implementation, never a reason to let a
      // packet take the datapath down. Counted and reported as an error result.
      this.out.lastThrown = e;
      code = this.out.error(res, ERR_ACTION_THREW);
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
          const dry = this.out.dry;
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
            if (this.out.tracing) {
              const r = L.ruleById(pair.rule);
              this.out.step(L.name, "lft", pair.rule, pair.desc.name ?? "stateful", x, r);
            }
            if (x !== null) {
              const err = applyTransform(pkt, x);
              if (err !== null) return this.out.error(res, err);
              list[nList++] = x;
            }
            continue;
          }
        }
        if (!this.out.dry) ls.lftMiss++;
      }
      const rule = L.rules[dir].find(pkt, am);
      const action = rule !== null ? rule.action : defaultAction(L.defaults[dir]);
      if (!this.out.dry) {
        if (rule !== null) {
          rule.hits++;
          ls.ruleHits++;
        } else ls.defaultHits++;
      }
      const ruleId = rule === null ? -1 : rule.id;
      if (this.out.tracing) {
        this.out.step(
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
          return this.out.drop(
            res,
            L,
            ruleId,
            action.reason ?? (rule ? DROP_RULE : DROP_DEFAULT),
            dir,
          );
        case "meta":
          action.set(ctx);
          break;
        case "static": {
          const x = action.gen(ctx);
          if (x === null) break;
          if (isDeny(x)) return this.out.drop(res, L, ruleId, x.deny, dir);
          const err = applyTransform(pkt, x);
          if (err !== null) return this.out.error(res, err);
          list[nList++] = x;
          break;
        }
        case "statefulAllow":
        case "stateful": {
          if (!isIp) {
            if (action.kind === "statefulAllow") break;
            return this.out.error(res, ERR_STATEFUL_NON_IP);
          }
          const before = this.before.copyFrom(lflow);
          let desc = IDENTITY;
          if (action.kind === "stateful") {
            const d = action.gen(ctx);
            if (isDeny(d)) return this.out.drop(res, L, ruleId, d.deny, dir);
            desc = d;
            const x = desc.transform(dir);
            if (x !== null) {
              const err = applyTransform(pkt, x);
              if (err !== null) {
                desc.release?.();
                return this.out.error(res, err);
              }
              list[nList++] = x;
            }
          }
          if (this.out.dry) {
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
            return this.out.drop(res, L, ruleId, DROP_LFT_FULL, dir);
          }
          lfts[nLfts++] = pair;
          this.created.push(pair);
          break;
        }
        case "hairpin": {
          const h = action.gen(ctx);
          if (isDeny(h)) return this.out.drop(res, L, ruleId, h.deny, dir);
          if (!this.out.dry) {
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
    if (this.out.dry) return RES_MODIFIED;
    return this.setup.finish(dir, pkt, flowIn, portsOk, encapIn, list, lfts, now, res);
  }
}
