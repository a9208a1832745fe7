// The control plane's single writer: validates references, applies changes to the datapath
// (rolling back on refusal), persists the API overrides, and only then acknowledges. All
// mutations run one at a time, so readers and the snapshot always see whole changes.

import {
  applyChanges,
  canonical,
  type Change,
  cloneState,
  type DesiredState,
  diffStates,
  inverse,
  type Kind,
  KINDS,
  PER_PORT_KINDS,
} from "../config/resources.ts";
import { claimField, conflicts, portClaims } from "../config/conflicts.ts";
import { InvalidField } from "../contract/field_error.ts";
import { overrideKey, type Overrides, type OverrideStore } from "../contract/overrides.ts";
import { type AdminDatapath, DatapathRejected } from "../contract/datapath.ts";
import type { FleetApplied, FleetView, Source } from "./fleet_view.ts";
export type { Source };

/** One resource by kind and key. */
export interface ResourceRef {
  kind: Kind;
  key: string;
}

/** A refused request: HTTP status, the field at fault and why. */
export class ControlError extends InvalidField {
  constructor(readonly status: 400 | 404 | 409 | 500, field: string, reason: string) {
    super(field, reason);
  }
}

/** Owner of the desired state; every mutation goes through `mutate`. */
export class Control {
  /** Effective state = base (config) ⊕ overrides (API). */
  state: DesiredState;
  private chain: Promise<unknown> = Promise.resolve();
  /** Number of acknowledged mutations. */
  generation = 0;
  /** Entries learnt from the fleet; config and API entries of the same key win over them. */
  readonly fleetLayer = new Map<string, Change>();
  /** The fleet agent's status, health and metrics (null: no fleet mode). */
  fleet: FleetView | null = null;
  /** Called after every committed change of the effective state (the fleet publisher). */
  readonly listeners: (() => void)[] = [];

  constructor(
    private base: DesiredState,
    readonly overrides: Overrides,
    readonly datapath: AdminDatapath,
    private readonly store: OverrideStore | null,
  ) {
    this.state = this.compose(base);
  }

  /** base ⊕ fleet entries no local entry shadows ⊕ overrides. */
  private compose(base: DesiredState): DesiredState {
    const s = cloneState(base);
    for (const [k, c] of this.fleetLayer) {
      if (!s[c.kind].has(c.key) && !this.overrides.has(k)) applyChanges(s, [c]);
    }
    applyChanges(s, [...this.overrides.values()]);
    return s;
  }

  /** Where the effective entry of `kind`/`key` comes from (null: nowhere). */
  sourceOf(kind: Kind, key: string): Source | null {
    const k = overrideKey(kind, key);
    if (this.overrides.has(k)) return "api";
    if (this.base[kind].has(key)) return "config";
    return this.fleetLayer.has(k) ? "fleet" : null;
  }

  /** Fills the fleet layer from persisted state before `start` (no datapath involved). */
  seedFleet(changes: readonly Change[]): void {
    for (const c of changes) this.fleetLayer.set(overrideKey(c.kind, c.key), c);
    this.state = this.compose(this.base);
  }

  /**
   * Applies fleet changes (mappings only) through the datapath, each on its own: a local entry of
   * the same key wins (`shadowed` when the values differ), a refused one keeps the previous entry.
   */
  applyFleet(changes: readonly Change[]): Promise<FleetApplied[]> {
    return this.serial(async () => {
      const out: FleetApplied[] = new Array(changes.length), todo: number[] = [];
      changes.forEach((c, i) => {
        const local = this.overrides.has(overrideKey(c.kind, c.key)) ||
          this.base[c.kind].has(c.key);
        const cur = (this.state[c.kind] as Map<string, unknown>).get(c.key);
        const same = c.value === null ? cur === undefined : canonical(cur) === canonical(c.value);
        if (!local && !same) return todo.push(i);
        this.setLayer(c);
        out[i] = {
          change: c,
          outcome: local && c.value !== null && !same ? "shadowed" : "unchanged",
        };
      });
      // Issued together so a worker datapath takes them in one message.
      const res = await Promise.allSettled(todo.map((i) => this.datapath.apply(changes[i])));
      res.forEach((r, j) => {
        const c = changes[todo[j]];
        if (r.status === "rejected") {
          const e = r.reason;
          const reason = e instanceof DatapathRejected ? `${e.field}: ${e.reason}` : String(e);
          out[todo[j]] = { change: c, outcome: "rejected", reason };
          return;
        }
        this.setLayer(c);
        applyChanges(this.state, [c]);
        out[todo[j]] = { change: c, outcome: "applied" };
      });
      if (todo.length > 0) this.generation++;
      return out;
    });
  }

  private setLayer(c: Change): void {
    const k = overrideKey(c.kind, c.key);
    if (c.value === null) this.fleetLayer.delete(k);
    else this.fleetLayer.set(k, c);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Pushes the whole effective state into an empty datapath (service start). */
  async start(): Promise<void> {
    const empty = cloneState(this.state);
    for (const k of Object.keys(empty) as Kind[]) empty[k].clear();
    for (const c of diffStates(empty, this.state)) await this.datapath.apply(c);
  }

  /** Runs `fn` after every earlier mutation finished (one writer at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Computes changes from the current state with `plan`, checks them, applies them to the
   * datapath, persists, and resolves with `plan`'s result once durable.
   */
  mutate<T>(plan: (s: DesiredState) => { changes: Change[]; result: T }): Promise<T> {
    return this.serial(async () => {
      const { changes, result } = plan(this.state);
      if (changes.length === 0) return result;
      const next = cloneState(this.state);
      applyChanges(next, changes);
      checkReferences(next, new Set(changes.map((c) => c.key)));
      await this.applyAll(changes);
      const saved = new Map(this.overrides);
      for (const c of changes) this.overrides.set(overrideKey(c.kind, c.key), structuredClone(c));
      try {
        await this.store?.save(this.overrides);
      } catch (e) {
        this.overrides.clear();
        for (const [k, v] of saved) this.overrides.set(k, v);
        await this.applyAll(inverse(this.state, changes)).catch(() => {});
        throw new ControlError(500, "state", `cannot persist: ${(e as Error).message}`);
      }
      this.state = next;
      this.generation++;
      this.changed();
      return result;
    });
  }

  /**
   * Replaces the base (config reload) and applies only the difference. Returns the changes and
   * the resources whose config entry changed but which API state pins (left as the API set them).
   */
  reload(base: DesiredState): Promise<{ changes: Change[]; pinned: ResourceRef[] }> {
    return this.serial(async () => {
      const next = this.compose(base);
      checkReferences(next);
      const changes = diffStates(this.state, next);
      await this.applyAll(changes);
      const pinned: ResourceRef[] = [];
      for (const kind of KINDS) {
        const a = this.base[kind] as Map<string, unknown>, b = base[kind] as Map<string, unknown>;
        for (const key of new Set([...a.keys(), ...b.keys()])) {
          if (canonical(a.get(key)) === canonical(b.get(key))) continue;
          if (this.overrides.has(overrideKey(kind, key))) pinned.push({ kind, key });
        }
      }
      this.base = base;
      this.state = next;
      this.changed();
      return { changes, pinned };
    });
  }

  /** `v` (a resource or one entry of it) with the resource's `source`, for API answers. */
  sourced<T extends object>(kind: Kind, key: string, v: T): T & { source: Source } {
    return { ...v, source: this.sourceOf(kind, key) ?? "config" };
  }

  /** Applies in order; on refusal undoes what was applied and reports the field. */
  private async applyAll(changes: Change[]): Promise<void> {
    const done: Change[] = [];
    const before = cloneState(this.state);
    for (const c of changes) {
      try {
        await this.datapath.apply(c);
        done.push(c);
      } catch (e) {
        for (const u of inverse(before, done)) await this.datapath.apply(u).catch(() => {});
        if (e instanceof DatapathRejected) throw new ControlError(409, e.field, e.reason);
        throw new ControlError(500, c.kind, `datapath error: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * Per-port tables need their port; ports need unique MACs, (VNI, overlay address) pairs and
 * external IPs. `touched`: report address clashes only where one side is among these ports (a
 * clash persisted before this check existed does not block unrelated changes).
 */
function checkReferences(s: DesiredState, touched?: Set<string>): void {
  for (const k of PER_PORT_KINDS) {
    for (const port of s[k].keys()) {
      if (!s.port.has(port)) throw new ControlError(404, "port", `no port ${JSON.stringify(port)}`);
    }
  }
  const macs = new Map<string, string>();
  for (const [name, p] of s.port) {
    const m = p.mac.toLowerCase();
    const other = macs.get(m);
    if (other !== undefined) {
      throw new ControlError(409, "mac", `${p.mac} is already used by port ${other}`);
    }
    macs.set(m, name);
  }
  const claims = [...s.port].flatMap(([n, p]) => portClaims(n, p.overlay, s.externalIps.get(n)));
  for (const [a, b] of conflicts(claims)) {
    if (touched && !touched.has(a.port) && !touched.has(b.port)) continue;
    throw new ControlError(
      409,
      claimField(b),
      `${b.what} is already used by ${claimField(a)}: each must belong to one port`,
    );
  }
}
