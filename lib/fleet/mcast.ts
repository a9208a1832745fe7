// Multicast forwarding derived from the sleds' published subscriptions: for each overlay group
// with an M2P mapping, the underlay group's next hops are the underlay addresses of the other
// sleds that have a port subscribed to it (replication "underlay": the copy is for sleds). A
// group the control plane gives an explicit `P/mcast/<underlay>` entry keeps that entry; a
// local (config or API) entry wins over both, as for every fleet entry.

import type { M2p, McastForwarding } from "../config/schema.ts";
import type { Change } from "../config/resources.ts";
import { ipToString, parseIp } from "../packet/bytes.ts";

/** Key segment of derived entries in the syncer's known map (never an etcd key). */
export const DERIVED = "derived/mcast/";

/** Canonical text of an address (as the switch compares them). */
function norm(ip: string): string {
  const b = parseIp(ip);
  return b ? ipToString(b) : ip;
}

/** One published `P/sub/<sled>/<port>` value, as far as derivation needs it (null: unusable). */
function subscription(value: string): { sled: string; underlay: string; groups: string[] } | null {
  try {
    const v = JSON.parse(value) as Record<string, unknown>;
    const groups = Array.isArray(v.groups) ? v.groups.filter((g) => typeof g === "string") : [];
    if (typeof v.sled !== "string" || typeof v.underlay !== "string" || !parseIp(v.underlay)) {
      return null;
    }
    return { sled: v.sled, underlay: v.underlay, groups };
  } catch {
    return null;
  }
}

/**
 * The forwarding entries the subscriptions call for, keyed `<prefix>/derived/mcast/<underlay>`:
 * `subs` are the `P/sub/…` keys and values seen, `m2p` the effective M2P mappings, `explicit` the
 * underlay groups with a control-plane entry, `self` this sled (its own ports are local copies).
 */
export function deriveForwarding(
  prefix: string,
  self: string,
  subs: Iterable<[string, string]>,
  m2p: Iterable<M2p>,
  explicit: (underlay: string) => boolean,
): Map<string, Change> {
  const underlayOf = new Map<string, string>();
  for (const m of m2p) underlayOf.set(norm(m.group), m.underlay);
  const hops = new Map<string, Set<string>>();
  const subPrefix = `${prefix}/sub/`;
  for (const [key, value] of subs) {
    if (!key.startsWith(subPrefix)) continue;
    const s = subscription(value);
    if (s === null || s.sled === self) continue;
    for (const g of s.groups) {
      const u = underlayOf.get(norm(g));
      if (u === undefined || explicit(u)) continue;
      if (!hops.has(u)) hops.set(u, new Set());
      hops.get(u)!.add(norm(s.underlay));
    }
  }
  const out = new Map<string, Change>();
  for (const [u, vias] of hops) {
    const value: McastForwarding = {
      underlay: u,
      nextHops: [...vias].sort().map((via) => ({ via, replication: "underlay" as const })),
    };
    out.set(`${prefix}/${DERIVED}${u}`, { kind: "mcastFwd", key: u, value });
  }
  return out;
}
