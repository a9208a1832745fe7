// The switch's desired state as keyed resources. The config file yields a base state; API
// changes are overrides on top of it (persisted); the datapath is driven by the difference
// between two states, which is also what a SIGHUP reload applies.

import { defaultFirewall, systemRoutes } from "./routes.ts";
import type {
  Config,
  ExternalIps,
  FirewallRule,
  M2p,
  McastForwarding,
  Port,
  PortSubnets,
  RouterEntry,
  UnderlayRoute,
  V2b,
  V2p,
} from "./schema.ts";

/** A port without the per-port tables (those are resources of their own). */
export type PortSpec = Omit<
  Port,
  "firewall" | "routes" | "externalIps" | "multicast" | "subnets"
>;

/** Value type of each resource kind. */
export interface ResourceTypes {
  port: PortSpec;
  firewall: FirewallRule[];
  router: RouterEntry[];
  externalIps: ExternalIps;
  /** Attached subnets and transit IPs. */
  subnets: PortSubnets;
  v2p: V2p;
  v2b: V2b;
  m2p: M2p;
  route: UnderlayRoute;
  mcastFwd: McastForwarding;
  /** Multicast groups a port subscribes to. */
  subscription: string[];
}
/** Resource kinds, in the order they are created (deleted in reverse). */
export const KINDS = [
  "route",
  "port",
  "firewall",
  "router",
  "externalIps",
  "subnets",
  "subscription",
  "v2p",
  "v2b",
  "m2p",
  "mcastFwd",
] as const;
/** One resource kind. */
export type Kind = (typeof KINDS)[number];

/** Kinds keyed by port name, removed with their port. */
export const PER_PORT_KINDS = [
  "firewall",
  "router",
  "externalIps",
  "subnets",
  "subscription",
] as const;

/** Set (`value`) or remove (`value: null`) one resource. */
export type Change = {
  [K in Kind]: { kind: K; key: string; value: ResourceTypes[K] | null };
}[Kind];

/** The whole desired state: one map per kind. */
export type DesiredState = { [K in Kind]: Map<string, ResourceTypes[K]> };

/** An empty state. */
export function emptyState(): DesiredState {
  return Object.fromEntries(KINDS.map((k) => [k, new Map()])) as unknown as DesiredState;
}

/** Key of a V2P mapping. */
export const v2pKey = (m: { vni: number; ip: string }): string => `${m.vni}/${m.ip}`;
/** Key of a V2B mapping. */
export const v2bKey = (m: { vni: number; prefix: string }): string => `${m.vni}/${m.prefix}`;

/** Gives every rule without an id the next free one (ids are per port). */
export function assignRuleIds(rules: FirewallRule[]): FirewallRule[] {
  let next = rules.reduce((m, r) => Math.max(m, (r.id ?? -1) + 1), 0);
  return rules.map((r) => (r.id === undefined ? { ...r, id: next++ } : r));
}

/** The state a config file describes. */
export function stateFromConfig(c: Config): DesiredState {
  const s = emptyState();
  for (const r of c.underlay.routes) s.route.set(r.prefix, r);
  for (const p of c.ports) {
    const { firewall, routes, externalIps, multicast, subnets, ...spec } = p;
    s.port.set(p.name, spec);
    if (multicast.length > 0) s.subscription.set(p.name, multicast);
    const rules = firewall ?? defaultFirewall(p);
    if (rules.length > 0) s.firewall.set(p.name, assignRuleIds(rules));
    const table = routes ?? systemRoutes(p);
    if (table.length > 0) s.router.set(p.name, table);
    if (externalIps) s.externalIps.set(p.name, externalIps);
    if (subnets) s.subnets.set(p.name, subnets);
  }
  for (const m of c.mappings.v2p) s.v2p.set(v2pKey(m), m);
  for (const m of c.mappings.v2b) s.v2b.set(v2bKey(m), m);
  for (const m of c.mappings.m2p) s.m2p.set(m.group, m);
  for (const m of c.mappings.mcastForwarding) s.mcastFwd.set(m.underlay, m);
  return s;
}

/** A deep copy of `s` (values are plain JSON). */
export function cloneState(s: DesiredState): DesiredState {
  const out = emptyState();
  for (const k of KINDS) {
    for (const [key, v] of s[k]) (out[k] as Map<string, unknown>).set(key, structuredClone(v));
  }
  return out;
}

/** Applies changes to `s` in place. */
export function applyChanges(s: DesiredState, changes: readonly Change[]): void {
  for (const c of changes) {
    const m = s[c.kind] as Map<string, unknown>;
    if (c.value === null) m.delete(c.key);
    else m.set(c.key, c.value);
  }
}

/** Canonical JSON (sorted keys) so equal values compare equal whatever their key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) =>
        `${JSON.stringify(k)}:${canonical(o[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/**
 * The changes that turn `from` into `to`: removals first (dependents before what they depend
 * on), then additions and updates (ports before their tables).
 */
export function diffStates(from: DesiredState, to: DesiredState): Change[] {
  const out: Change[] = [];
  for (const k of [...KINDS].reverse()) {
    for (const key of from[k].keys()) {
      if (!to[k].has(key)) out.push({ kind: k, key, value: null } as Change);
    }
  }
  for (const k of KINDS) {
    const a = from[k] as Map<string, unknown>;
    for (const [key, v] of to[k] as Map<string, unknown>) {
      if (!a.has(key) || canonical(a.get(key)) !== canonical(v)) {
        out.push({ kind: k, key, value: v } as Change);
      }
    }
  }
  return out;
}

/** The inverse of `changes` relative to the state before them (for rollback). */
export function inverse(before: DesiredState, changes: readonly Change[]): Change[] {
  return [...changes].reverse().map((c) => {
    const old = (before[c.kind] as Map<string, unknown>).get(c.key);
    return {
      kind: c.kind,
      key: c.key,
      value: old === undefined ? null : structuredClone(old),
    } as Change;
  });
}
