// Rules, actions and the ordered rule table of one layer direction. Order: priority ascending;
// at equal priority deny rules first, then the newest rule first; the first match wins.

import type { FlowId } from "../packet/flow.ts";
import type { Direction, Packet } from "./packet.ts";
import { type ActionMeta, compileAll, type Matcher, type Predicate } from "./predicate.ts";
import { RuleIndex } from "./rule_index.ts";
import type { HeaderTransform } from "./transform.ts";
import { type Reason, reason } from "./reason.ts";

/** A drop decided by an action generator, with the reason it is counted under. */
export interface Deny {
  deny: Reason;
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
  | { kind: "deny"; reason?: Reason }
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
  /** A deny with an optional reason counted under `drops` (a name is registered here). */
  deny(why?: Reason | string): Action {
    return { kind: "deny", reason: typeof why === "string" ? reason(why) : why };
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
  /** The id the operator knows this rule by (a firewall rule's API id), shown in dumps and traces. */
  ref?: number;
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
      ref: this.spec.ref ?? null,
      name: this.spec.name ?? "",
      priority: this.spec.priority,
      action: this.spec.action.kind,
      predicates: this.spec.predicates ?? [],
      hits: this.hits,
    };
  }
}

let nextRuleId = 1;

/**
 * Tables with at least this many rules are looked up through the field index; shorter ones are
 * scanned (measured crossover on this VM, see tests/bench/engine_bench.ts).
 */
export const INDEX_MIN_RULES = 16;

/** The ordered rules of one layer direction. */
export class RuleTable {
  private rules: Rule[] = [];
  private ix: RuleIndex | null = null;
  private readonly indexMin: number;

  /** `indexMin`: smallest table looked up through the index (tests force 0 or Infinity). */
  constructor(opts: { indexMin?: number } = {}) {
    this.indexMin = opts.indexMin ?? INDEX_MIN_RULES;
  }

  /** The rules in evaluation order. */
  get list(): readonly Rule[] {
    return this.index().rules;
  }

  /** Adds a rule and returns its id (unique within the process, increasing: newer is larger). */
  add(spec: RuleSpec): number {
    const r = new Rule(nextRuleId++, spec);
    this.rules.push(r);
    this.ix = null;
    return r.id;
  }

  /** Removes the rule with `id`; false when absent. */
  remove(id: number): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.rules.splice(i, 1);
    this.ix = null;
    return true;
  }

  /** Replaces every rule (compiled first, so a bad spec leaves the old set in place). */
  setAll(specs: readonly RuleSpec[]): number[] {
    const rs = specs.map((s) => new Rule(nextRuleId++, s));
    this.rules = rs;
    this.ix = null;
    return rs.map((r) => r.id);
  }

  /**
   * The first matching rule, or null. Rules are filed by a field they require (address prefix,
   * port, protocol), so a lookup visits only the buckets the packet selects; a numeric prefilter
   * rejects most candidates without calling their matchers, and the full matcher decides.
   */
  find(pkt: Packet, am: ActionMeta): Rule | null {
    return (this.ix ?? this.index()).find(pkt, am);
  }

  /**
   * The lookup structure, rebuilt after changes on first use: a batch of `add`s (a layer's
   * initial rules, a control-plane update) costs one sort and one index build, not one each.
   */
  index(): RuleIndex {
    if (this.ix === null) {
      this.rules.sort((a, b) =>
        a.priority - b.priority ||
        (a.action.kind === "deny" ? 0 : 1) - (b.action.kind === "deny" ? 0 : 1) ||
        b.id - a.id
      );
      this.ix = new RuleIndex(this.rules.slice(), this.indexMin);
    }
    return this.ix;
  }
}

const ALLOW: Action = { kind: "allow" };
const SALLOW: Action = { kind: "statefulAllow" };
const DENY: Action = { kind: "deny" };

/** The action of a layer's default. */
export function defaultAction(d: DefaultAction): Action {
  return d === "allow" ? ALLOW : d === "deny" ? DENY : SALLOW;
}

/** How a trace names what `rule` (null: the default) did. */
export function actionName(rule: Rule | null, a: { kind: string; name?: string }): string {
  return a.name ?? (rule?.spec.name ? `${a.kind} (${rule.spec.name})` : a.kind);
}
