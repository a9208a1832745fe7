// A layer: named in/out rule tables, a default action per direction and a layer flow table
// (one table per direction, holding both halves of each stateful pair).

import { FlowTable } from "./flow_table.ts";
import { DIR_IN, DIR_OUT, type Direction } from "./packet.ts";
import { type DefaultAction, type Rule, type RuleSpec, RuleTable } from "./rule.ts";
import type { LftPair } from "./uft.ts";

/** How a layer is created. */
export interface LayerSpec {
  name: string;
  /** Default actions when no rule matches; both default to "allow". */
  defaults?: { in?: DefaultAction; out?: DefaultAction };
  /** Maximum LFT pairs (per direction table); default 8192. */
  lftLimit?: number;
  rules?: { in?: readonly RuleSpec[]; out?: readonly RuleSpec[] };
}

/** Counters of one layer direction. */
export class LayerDirStats {
  lftHit = 0;
  lftMiss = 0;
  ruleHits = 0;
  defaultHits = 0;
  drops = 0;
  hairpins = 0;
}

/** Counters of a layer. */
export class LayerStats {
  readonly out = new LayerDirStats();
  readonly in = new LayerDirStats();
  /** New pairs refused because the LFT was full and nothing was evictable. */
  lftFull = 0;
  lftEvictions = 0;
  lftExpired = 0;
  /** Stateful descs released (pairs that died). */
  releases = 0;

  /** The counters of `dir`. */
  dir(d: Direction): LayerDirStats {
    return d === DIR_OUT ? this.out : this.in;
  }
}

/** A layer of a port's pipeline. Create it, hand it to a Port; the port owns it from then on. */
export class Layer {
  readonly name: string;
  /** Rule tables indexed by direction. */
  readonly rules: readonly [RuleTable, RuleTable];
  /** Default actions indexed by direction. */
  readonly defaults: [DefaultAction, DefaultAction];
  /** Layer flow tables indexed by direction. */
  readonly lft: readonly [FlowTable<LftPair>, FlowTable<LftPair>];
  readonly stats = new LayerStats();

  constructor(spec: LayerSpec) {
    if (!spec.name) throw new Error("layer name must not be empty");
    this.name = spec.name;
    this.rules = [new RuleTable(), new RuleTable()];
    this.defaults = [spec.defaults?.out ?? "allow", spec.defaults?.in ?? "allow"];
    const limit = spec.lftLimit ?? 8192;
    this.lft = [new FlowTable<LftPair>(limit), new FlowTable<LftPair>(limit)];
    for (const r of spec.rules?.out ?? []) this.rules[DIR_OUT].add(r);
    for (const r of spec.rules?.in ?? []) this.rules[DIR_IN].add(r);
  }

  /** The rule `id` of either direction, null when absent (a scan: for traces, not packets). */
  ruleById(id: number): Rule | null {
    if (id < 0) return null;
    return this.rules[DIR_OUT].list.find((r) => r.id === id) ??
      this.rules[DIR_IN].list.find((r) => r.id === id) ?? null;
  }

  /** Live LFT pairs (each counted once). */
  get pairCount(): number {
    return this.lft[DIR_OUT].size;
  }
}
