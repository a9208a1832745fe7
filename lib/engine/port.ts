// A port: one client, an ordered list of layers, a UFT per direction, a TCP flow table and an
// epoch. `process` is the only entry point for packets; it never throws for anything a packet
// can cause (errors and drops are results and counters).

import { FlowId } from "../packet/flow.ts";
import { FRAG_LATER } from "../packet/meta.ts";
import type { FlowTable } from "./flow_table.ts";
import { FlowState } from "./flows.ts";
import { dumpLayer, dumpTcp, dumpUft, statsSnapshot } from "./inspect.ts";
import type { Layer } from "./layer.ts";
import {
  DIR_IN,
  DIR_OUT,
  type Direction,
  flowOfLevel,
  type Packet,
  ProcessResult,
  RES_ERROR,
  RES_MODIFIED,
} from "./packet.ts";
import { applyPlan, replayList } from "./plan.ts";
import type { RuleSpec } from "./rule.ts";
import {
  DEFAULT_TCP_TTLS,
  TCP_NOW_CLOSED,
  TCP_REUSE,
  TcpFlow,
  tcpStep,
  type TcpTtls,
} from "./tcp.ts";
import { UftEntry } from "./uft.ts";
import { PortStats, type TraceStep } from "./stats.ts";
import { ERR_ACTION_THREW, SlowPath } from "./slow_path.ts";

/** Port states. Only RUNNING processes packets. */
export const PORT_READY = 0;
export const PORT_RUNNING = 1;
export const PORT_PAUSED = 2;
const STATE_NAMES = ["ready", "running", "paused"];

/**
 * The default clock, one function for every port: a closure per port made the call site
 * polymorphic once a packet crossed two ports (overlay loopback), and each read then boxed a
 * number (~32 bytes a packet).
 */
function monotonicMs(): number {
  return Math.floor(performance.now());
}

/** How a port is created. */
export interface PortConfig {
  name: string;
  /** The client's MAC (informational for the engine). */
  mac?: Uint8Array;
  /** Layers in outbound order (inbound runs them last to first). Fixed for the port's life. */
  layers: readonly Layer[];
  /**
   * Monotonic clock in ms, read once per packet; default `Math.floor(performance.now())`. For an
   * allocation-free fast path return small integers (e.g. a per-batch value the datapath sets).
   */
  clock?: () => number;
  /** UFT entries per direction (default 8192), TCP flows (default 8192). */
  uftLimit?: number;
  tcpLimit?: number;
  /** Idle TTL of UFT and LFT entries of non-TCP flows (default 60 s). */
  flowTtlMs?: number;
  tcpTtls?: Partial<TcpTtls>;
}

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

/** Error for a packet given to a port that is not Running. */
export const ERR_NOT_RUNNING = "port not running";

/** A rule or flow change refused in the port's current state (upstream's BadState). */
export class PortStateError extends Error {
  constructor(readonly port: string, readonly state: string, what: string) {
    super(`port ${port} is ${state}: ${what} refused (start the port first)`);
  }
}

/** A port of the engine. */
export class Port {
  readonly name: string;
  readonly mac: Uint8Array | null;
  readonly layers: readonly Layer[];
  readonly clock: () => number;
  readonly stats = new PortStats();
  /** UFT, TCP table, epoch and the bookkeeping around them and the LFTs. */
  readonly flows: FlowState;
  /** The reusable result of the last `process`. */
  readonly result = new ProcessResult();
  private stateV = PORT_READY;
  private readonly byName = new Map<string, Layer>();
  private readonly flow = new FlowId();
  private readonly slow: SlowPath;

  constructor(cfg: PortConfig) {
    this.name = cfg.name;
    this.mac = cfg.mac ?? null;
    this.layers = [...cfg.layers];
    for (const l of this.layers) {
      if (this.byName.has(l.name)) throw new Error(`port ${cfg.name}: duplicate layer "${l.name}"`);
      this.byName.set(l.name, l);
    }
    this.clock = cfg.clock ?? monotonicMs;
    this.flows = new FlowState(
      this.layers,
      this.stats,
      cfg.flowTtlMs ?? 60_000,
      { ...DEFAULT_TCP_TTLS, ...cfg.tcpTtls },
      cfg.uftLimit ?? 8192,
      cfg.tcpLimit ?? 8192,
    );
    this.slow = new SlowPath(this.layers, this.byName, this.flows, this.stats);
  }

  /** UFT per direction. */
  get uft(): readonly [FlowTable<UftEntry>, FlowTable<UftEntry>] {
    return this.flows.uft;
  }
  /** TCP flows, keyed by the client-side outbound flow. */
  get tcp(): FlowTable<TcpFlow> {
    return this.flows.tcp;
  }
  /** Bumped by every rule change (and `bumpEpoch`); UFT entries of older epochs are rebuilt. */
  get epoch(): number {
    return this.flows.epoch;
  }

  /** The last exception an action generator or body transform threw (for diagnosis). */
  get lastThrown(): unknown {
    return this.slow.lastThrown;
  }

  // ---- state ----

  /** PORT_READY, PORT_RUNNING or PORT_PAUSED. */
  get state(): number {
    return this.stateV;
  }
  /** "ready", "running" or "paused". */
  get stateName(): string {
    return STATE_NAMES[this.stateV];
  }
  /** Ready/Paused → Running. */
  start(): void {
    this.stateV = PORT_RUNNING;
  }
  /** Running → Paused: packets are refused, inspection still works. */
  pause(): void {
    if (this.stateV === PORT_RUNNING) this.stateV = PORT_PAUSED;
  }
  /** Wipes all flow state (releasing resources), keeps rules; back to Ready. */
  reset(): void {
    this.flows.clear();
    this.stateV = PORT_READY;
  }

  /** The layer called `name`. */
  layer(name: string): Layer {
    const l = this.byName.get(name);
    if (!l) throw new Error(`port ${this.name}: no layer "${name}"`);
    return l;
  }

  /**
   * Throws PortStateError unless the port may change: rules in Ready or Running, flows (`clear`)
   * only in Running, as upstream's check_state.
   */
  assertMutable(what: "rule change" | "flow change"): void {
    const ok = this.stateV === PORT_RUNNING ||
      (what === "rule change" && this.stateV === PORT_READY);
    if (!ok) throw new PortStateError(this.name, this.stateName, what);
  }

  // ---- rules (every change bumps the epoch; refused while Paused) ----

  /** Adds a rule to `layer`'s `dir` table; returns its id. */
  addRule(layer: string, dir: Direction, spec: RuleSpec): number {
    this.assertMutable("rule change");
    const id = this.layer(layer).rules[dir].add(spec);
    this.flows.epoch++;
    return id;
  }
  /** Removes a rule; false when absent. */
  removeRule(layer: string, dir: Direction, id: number): boolean {
    this.assertMutable("rule change");
    const ok = this.layer(layer).rules[dir].remove(id);
    this.flows.epoch++;
    return ok;
  }
  /**
   * Replaces both rule tables of `layer`. With `clearFlows` the layer's LFT pairs die too
   * (resources released); otherwise existing pairs keep working until they expire.
   */
  setRules(
    layer: string,
    rules: { in?: readonly RuleSpec[]; out?: readonly RuleSpec[] },
    opts: { clearFlows?: boolean } = {},
  ): void {
    this.assertMutable("rule change");
    const l = this.layer(layer);
    if (rules.out) l.rules[DIR_OUT].setAll(rules.out);
    if (rules.in) l.rules[DIR_IN].setAll(rules.in);
    if (opts.clearFlows) this.flows.clearLayer(l);
    this.flows.epoch++;
  }
  /**
   * Sorts and indexes every changed rule table now. Rule changes are otherwise indexed lazily at
   * the next lookup (so a burst of `addRule`s costs one rebuild); call this after applying a
   * batch of control commands so the rebuild (~20 ms at 1,000 rules) does not land on a packet.
   */
  prepare(): void {
    for (const l of this.layers) {
      l.rules[DIR_OUT].index();
      l.rules[DIR_IN].index();
    }
  }

  /** Invalidates every UFT entry (e.g. a mapping the transforms used changed). */
  bumpEpoch(): void {
    this.flows.epoch++;
  }

  // ---- packets ----

  /**
   * Processes one packet travelling `dir`, in place. Returns RES_MODIFIED (emit
   * `pkt.buf[pkt.off, pkt.off + pkt.len)`), RES_DROP, RES_HAIRPIN or RES_ERROR; details in
   * `this.result`. `pkt.meta` must describe the frame (parseFrame).
   */
  process(dir: Direction, pkt: Packet): number {
    const res = this.result;
    res.reset();
    if (this.stateV !== PORT_RUNNING) return this.slow.error(res, ERR_NOT_RUNNING);
    const now = this.clock();
    const flow = this.flow, flows = this.flows;
    const isIp = flowOfLevel(pkt.buf, pkt.meta.flow, flow);
    if (isIp) {
      const uft = flows.uft[dir];
      const slot = uft.find(flow);
      if (slot >= 0) {
        const e = uft.valueAt(slot)!;
        if (flows.usable(e, now)) {
          e.lastHit = now;
          return this.fastPath(dir, pkt, e, now, res);
        }
        this.stats.uftStale++;
        flows.removeUft(e, true);
      }
      this.stats.uftMiss[dir]++;
    }
    return this.slow.run(dir, pkt, isIp, now, flow, res);
  }

  /**
   * Processes one packet with tracing: returns every layer's decision and the result. It is a real
   * `process` (flow state may be created), the basis of "why was this dropped".
   */
  trace(dir: Direction, pkt: Packet): { code: number; result: object; steps: TraceStep[] } {
    const steps: TraceStep[] = [];
    this.slow.tracing = steps;
    try {
      const code = this.process(dir, pkt);
      const r = this.result;
      return {
        code,
        result: { code, fastPath: r.fastPath, layer: r.layer, rule: r.rule, reason: r.reason },
        steps,
      };
    } finally {
      this.slow.tracing = null;
    }
  }

  /**
   * Runs one packet through the live layers without changing anything: no flows, no counters,
   * no held resources (OPTE's probes, as a call). `pkt` is rewritten as the layers would
   * rewrite it, so pass a copy. A usable UFT entry is reported first; the layers then show the
   * decisions behind it (LFT hits for stateful layers).
   */
  dryRun(dir: Direction, pkt: Packet): DryRun {
    const res = new ProcessResult();
    const steps: TraceStep[] = [];
    const slow = this.slow, saved = slow.tracing;
    if (this.stateV !== PORT_RUNNING) {
      steps.push({ layer: "", via: "error", rule: -1, action: ERR_NOT_RUNNING });
      return {
        code: RES_ERROR,
        steps,
        layer: "",
        rule: -1,
        reason: ERR_NOT_RUNNING,
        hairpin: null,
      };
    }
    const now = this.clock();
    const flow = new FlowId();
    const isIp = flowOfLevel(pkt.buf, pkt.meta.flow, flow);
    if (isIp) {
      const e = this.flows.uft[dir].get(flow);
      if (e !== null && this.flows.usable(e, now)) {
        steps.push({ layer: "", via: "uft", rule: -1, action: `cached flow, ${e.hits} hits` });
      }
    }
    slow.tracing = steps;
    slow.dry = true;
    try {
      const code = slow.run(dir, pkt, isIp, now, flow, res);
      return {
        code,
        steps,
        layer: res.layer,
        rule: res.rule,
        reason: res.reason,
        hairpin: res.hairpin,
      };
    } finally {
      slow.tracing = saved;
      slow.dry = false;
    }
  }

  private fastPath(dir: Direction, pkt: Packet, e: UftEntry, now: number, res: ProcessResult) {
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
          return this.slow.run(dir, pkt, true, now, this.flow, res);
        }
        closed = r === TCP_NOW_CLOSED;
      }
      tf.lastHit = now;
    }
    e.hits++;
    const err = e.plan !== null ? applyPlan(pkt, e.plan) : this.replay(pkt, e);
    if (err !== null) return this.slow.error(res, err);
    if (closed) {
      this.stats.tcpClosed++;
      this.flows.removeTcp(tf!);
    }
    this.stats.uftHit[dir]++;
    res.fastPath = true;
    res.entry = e;
    if (this.slow.tracing !== null) {
      this.slow.tracing.push({
        layer: "",
        via: "uft",
        rule: -1,
        action: e.plan ? "plan" : "replay",
      });
    }
    return RES_MODIFIED;
  }

  private replay(pkt: Packet, e: UftEntry): string | null {
    try {
      return replayList(pkt, e.list);
    } catch (x) {
      this.slow.lastThrown = x;
      return ERR_ACTION_THREW;
    }
  }

  // ---- flow state ----

  /**
   * Removes everything idle past its TTL, releasing resources; call it ~1/s between batches.
   * A port that is not Running keeps its flows as they are (returns 0), as upstream refuses it.
   */
  expire(now = this.clock()): number {
    if (this.stateV !== PORT_RUNNING) return 0;
    return this.flows.expire(now);
  }

  /** Wipes UFT, TCP and every LFT (releasing resources); rules stay. Bumps the epoch. Running only. */
  clearFlows(): void {
    this.assertMutable("flow change");
    this.flows.clear();
  }

  /** Kills every LFT pair of one layer (releasing resources). Running only. */
  clearLayerFlows(layer: string): void {
    this.assertMutable("flow change");
    this.flows.clearLayer(this.layer(layer));
  }

  // ---- inspection (allowed in any state) ----

  /** UFT entries of `dir` as plain objects. */
  dumpUft(dir: Direction): object[] {
    return dumpUft(this, dir);
  }
  /** TCP flows as plain objects. */
  dumpTcp(): object[] {
    return dumpTcp(this);
  }
  /** A layer's rules, LFT pairs and counters. */
  dumpLayer(name: string): object {
    return dumpLayer(this, name);
  }
  /** Port counters plus table occupancy. */
  statsSnapshot(): object {
    return statsSnapshot(this);
  }
}
