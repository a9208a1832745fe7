// Rules, actions and the ordered rule table of one layer direction. Order: priority ascending;
// at equal priority deny rules first, then the newest rule first; the first match wins.

import type { FlowId } from "../packet/flow.ts";
import type { Direction, Packet } from "./packet.ts";
import {
  type ActionMeta,
  compileAll,
  type Matcher,
  parseCidr,
  type Predicate,
} from "./predicate.ts";
import type { HeaderTransform } from "./transform.ts";

/** A drop decided by an action generator, with a reason that becomes a counter key. */
export interface Deny {
  deny: string;
}

/** True when an action generator's result is a Deny. */
export function isDeny(x: unknown): x is Deny {
  return typeof x === "object" && x !== null && "deny" in x;
}

/**
 * The state behind a stateful action's flow pair: it yields the transform for each direction and
 * may hold a finite resource, released exactly once when the pair dies (expiry, eviction, reset,
 * clear, rule-set replacement that clears flows).
 */
export interface ActionDesc {
  /** Shown in traces and dumps. */
  name?: string;
  /** The transform for packets of this pair going in `dir` (null: none). */
  transform(dir: Direction): HeaderTransform | null;
  /** Gives back whatever the pair held (a SNAT port, …). */
  release?(): void;
}

/** Arguments every action generator receives. */
export interface ActionCtx {
  pkt: Packet;
  /** The flow as it enters this layer. */
  flow: FlowId;
  dir: Direction;
  meta: ActionMeta;
}

/** What a rule does when it matches. */
export type Action =
  | { kind: "allow" }
  /** Allow and remember the flow pair, so the reverse direction passes this layer too. */
  | { kind: "statefulAllow" }
  | { kind: "deny"; reason?: string }
  /** Writes action metadata and continues to the next layer. */
  | { kind: "meta"; set: (ctx: ActionCtx) => void }
  /** The same kind of transform for every packet matching; not remembered in the LFT. */
  | { kind: "static"; name?: string; gen: (ctx: ActionCtx) => HeaderTransform | Deny | null }
  /** Creates an LFT pair (in + out) around the returned desc. */
  | { kind: "stateful"; name?: string; gen: (ctx: ActionCtx) => ActionDesc | Deny }
  /** Generates a reply frame sent back the way the packet came; processing stops. */
  | { kind: "hairpin"; name?: string; gen: (ctx: ActionCtx) => Uint8Array | Deny };

/** The kind of a layer default. */
export type DefaultAction = "allow" | "statefulAllow" | "deny";

/** Actions as values: `A.allow`, `A.deny("reason")`, `A.stateful(gen)`, …. */
export const A = {
  allow: { kind: "allow" } as Action,
  statefulAllow: { kind: "statefulAllow" } as Action,
  /** A deny with an optional reason counted under `drops`. */
  deny(reason?: string): Action {
    return { kind: "deny", reason };
  },
  /** Sets fixed metadata keys. */
  meta(kv: Record<string, string>): Action {
    const e = Object.entries(kv);
    return {
      kind: "meta",
      set: (ctx) => {
        for (const [k, v] of e) ctx.meta.set(k, v);
      },
    };
  },
  /** A constant static transform. */
  transform(t: HeaderTransform): Action {
    return { kind: "static", name: t.name, gen: () => t };
  },
  /** A stateful action. */
  stateful(name: string, gen: (ctx: ActionCtx) => ActionDesc | Deny): Action {
    return { kind: "stateful", name, gen };
  },
  /** A hairpin action. */
  hairpin(name: string, gen: (ctx: ActionCtx) => Uint8Array | Deny): Action {
    return { kind: "hairpin", name, gen };
  },
};

/** A rule as the control plane writes it. */
export interface RuleSpec {
  /** 0..65535, lower runs first. */
  priority: number;
  predicates?: readonly Predicate[];
  action: Action;
  /** Shown in traces and dumps. */
  name?: string;
}

/** An installed rule. */
export class Rule {
  /** Times this rule matched (a layer counter). */
  hits = 0;
  readonly match: Matcher;
  constructor(readonly id: number, readonly spec: RuleSpec) {
    if (!Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > 0xffff) {
      throw new RangeError(`rule priority must be 0..65535, got ${spec.priority}`);
    }
    this.match = compileAll(spec.predicates ?? []);
  }
  get priority(): number {
    return this.spec.priority;
  }
  get action(): Action {
    return this.spec.action;
  }
  /** A plain description for dumps and traces. */
  toJSON(): object {
    return {
      id: this.id,
      name: this.spec.name ?? "",
      priority: this.spec.priority,
      action: this.spec.action.kind,
      predicates: this.spec.predicates ?? [],
      hits: this.hits,
    };
  }
}

let nextRuleId = 1;

/** The ordered rules of one layer direction. */
export class RuleTable {
  private rules: Rule[] = [];
  private pf = new Prefilter([]);

  /** The rules in evaluation order. */
  get list(): readonly Rule[] {
    return this.rules;
  }

  /** Adds a rule and returns its id (unique within the process, increasing: newer is larger). */
  add(spec: RuleSpec): number {
    const r = new Rule(nextRuleId++, spec);
    this.rules.push(r);
    this.sort();
    return r.id;
  }

  /** Removes the rule with `id`; false when absent. */
  remove(id: number): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.rules.splice(i, 1);
    return true;
  }

  /** Replaces every rule (compiled first, so a bad spec leaves the old set in place). */
  setAll(specs: readonly RuleSpec[]): number[] {
    const rs = specs.map((s) => new Rule(nextRuleId++, s));
    this.rules = rs;
    this.sort();
    return rs.map((r) => r.id);
  }

  /**
   * The first matching rule, or null. A numeric prefilter (family, protocol, ports, one IPv4
   * CIDR per side) rejects most non-matching rules without calling their matchers; a rule that
   * passes it is still checked by its full matcher.
   */
  find(pkt: Packet, am: ActionMeta): Rule | null {
    const rs = this.rules, pf = this.pf.w, fp = this.pf.famProto;
    const lv = pkt.meta.flow, buf = pkt.buf;
    const fam = lv.ipVersion, proto = lv.proto;
    let sp = -1, dp = -1, s4 = 0, d4 = 0;
    if (lv.l4 >= 0 && lv.icmpType < 0) {
      sp = lv.srcPort;
      dp = lv.dstPort;
    }
    if (fam === 4) {
      const o = lv.l3;
      s4 = (buf[o + 12] << 24) | (buf[o + 13] << 16) | (buf[o + 14] << 8) | buf[o + 15];
      d4 = (buf[o + 16] << 24) | (buf[o + 17] << 16) | (buf[o + 18] << 8) | buf[o + 19];
    }
    const n = rs.length;
    for (let i = 0, b = 0; i < n; i++, b += PF_STRIDE) {
      if ((d4 & pf[b]) !== pf[b + 1] || (s4 & pf[b + 2]) !== pf[b + 3]) continue;
      if (dp < pf[b + 4] || dp > pf[b + 5] || sp < pf[b + 6] || sp > pf[b + 7]) continue;
      const x = fp[i], f = x >>> 16, p = x & 0xffff;
      if ((f !== 0 && f !== fam) || (p !== 0xffff && p !== proto)) continue;
      if (rs[i].match(pkt, am)) return rs[i];
    }
    return null;
  }

  private sort(): void {
    this.rules.sort((a, b) =>
      a.priority - b.priority ||
      (a.action.kind === "deny" ? 0 : 1) - (b.action.kind === "deny" ? 0 : 1) ||
      b.id - a.id
    );
    this.pf = new Prefilter(this.rules);
  }
}

const PF_STRIDE = 8;

/**
 * Per-rule numeric constraints implied by a rule's top-level predicates, laid out for one linear
 * scan: [dstMask, dstAddr, srcMask, srcAddr, dportLo, dportHi, sportLo, sportHi] per rule (IPv4
 * words as i32; a packet without ports carries port -1, which only an unconstrained lo of -1
 * admits), plus family << 16 | protocol (0 / 0xffff = any).
 */
class Prefilter {
  readonly w: Int32Array;
  readonly famProto: Int32Array;

  constructor(rules: readonly Rule[]) {
    const n = rules.length;
    this.w = new Int32Array(n * PF_STRIDE);
    this.famProto = new Int32Array(n).fill(0xffff);
    rules.forEach((r, i) => {
      const b = i * PF_STRIDE;
      this.w.set([0, 0, 0, 0, -1, 65535, -1, 65535], b);
      for (const p of r.spec.predicates ?? []) this.add(i, b, p);
    });
  }

  private setFam(i: number, v: number): void {
    this.famProto[i] = (v << 16) | (this.famProto[i] & 0xffff);
  }

  private add(i: number, b: number, p: Predicate): void {
    const w = this.w;
    switch (p.kind) {
      case "ipVersion":
        this.setFam(i, p.version);
        break;
      case "ipProto":
        if (p.values.length === 1) this.famProto[i] = (this.famProto[i] & ~0xffff) | p.values[0];
        break;
      case "dstPort":
      case "srcPort": {
        if (p.ports.length !== 1) break;
        const x = p.ports[0];
        const [lo, hi] = typeof x === "number" ? [x, x] : x;
        const at = b + (p.kind === "dstPort" ? 4 : 6);
        w[at] = lo;
        w[at + 1] = hi;
        break;
      }
      case "ipSrc":
      case "ipDst": {
        if (p.cidrs.length !== 1) break;
        const c = parseCidr(p.cidrs[0]);
        if (!c.v4) {
          this.setFam(i, 6);
          break;
        }
        this.setFam(i, 4);
        const at = b + (p.kind === "ipDst" ? 0 : 2);
        w[at] = c.mask[0] | 0;
        w[at + 1] = c.addr[0] | 0;
        break;
      }
    }
  }
}
