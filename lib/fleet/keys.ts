// The fleet's key layout in etcd, under the configured prefix P:
//   P/v2p/<vni>/<ip>        V2P of an overlay address, owned by the sled publishing it (leased)
//   P/v2b/<vni>/<prefix>    V2B entry (written by the control plane / operator)
//   P/m2p/<group>           M2P entry (control plane)
//   P/mcast/<underlay>      multicast forwarding of an underlay group (control plane)
//   P/sub/<sled>/<port>     a sled's port's multicast subscriptions (leased)
//   P/sleds/<sled>          a sled's presence: underlay address, start time (leased)
// Values are the admin API's JSON shapes (plus `sled` on published ones), validated by the same
// zod schemas as an API request, so a bad entry is refused with the field at fault.

import { M2p, McastForwarding, V2b, V2p } from "../config/schema.ts";
import { type Change, type DesiredState, v2bKey, v2pKey } from "../config/resources.ts";
import { zodProblems } from "../config/load.ts";
import type { z } from "zod";

/** Resource kinds the fleet carries into the datapath. */
export type FleetKind = "v2p" | "v2b" | "m2p" | "mcastFwd";

const SEGMENT: Record<FleetKind, string> = {
  v2p: "v2p",
  v2b: "v2b",
  m2p: "m2p",
  mcastFwd: "mcast",
};
const KIND_OF = new Map(Object.entries(SEGMENT).map(([k, s]) => [s, k as FleetKind]));
const SCHEMA: Record<FleetKind, z.ZodType> = {
  v2p: V2p,
  v2b: V2b,
  m2p: M2p,
  mcastFwd: McastForwarding,
};
const KEY: Record<FleetKind, (v: never) => string> = {
  v2p: v2pKey,
  v2b: v2bKey,
  m2p: (m: M2p) => m.group,
  mcastFwd: (m: McastForwarding) => m.underlay,
};

/** The etcd key of a resource. */
export function etcdKey(prefix: string, kind: FleetKind, key: string): string {
  return `${prefix}/${SEGMENT[kind]}/${key}`;
}

/** The key of this sled's presence entry. */
export const sledKey = (prefix: string, sled: string): string => `${prefix}/sleds/${sled}`;
/** The key of a port's published multicast subscriptions. */
export const subKey = (prefix: string, sled: string, port: string): string =>
  `${prefix}/sub/${sled}/${port}`;

/** A decoded fleet entry: the change it makes, and the sled that published it (if any). */
export type Decoded =
  | { ok: true; change: Change; sled?: string }
  | { ok: false; error: string }
  | { ok: "other" };

/**
 * Decodes one etcd key (and value; null for a deletion). Keys outside the mapping kinds are
 * `other`; a value that fails validation, or whose key does not match it, is an error.
 */
export function decodeEntry(prefix: string, key: string, value: string | null): Decoded {
  if (!key.startsWith(prefix + "/")) return { ok: "other" };
  const rest = key.slice(prefix.length + 1);
  const i = rest.indexOf("/");
  const kind = i < 0 ? undefined : KIND_OF.get(rest.slice(0, i));
  if (!kind) return { ok: "other" };
  const rkey = rest.slice(i + 1);
  if (value === null) return { ok: true, change: { kind, key: rkey, value: null } as Change };
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    return { ok: false, error: `${key}: value is not JSON` };
  }
  let sled: string | undefined;
  if (doc && typeof doc === "object" && "sled" in doc) {
    const { sled: s, ...restDoc } = doc as Record<string, unknown>;
    sled = typeof s === "string" ? s : undefined;
    doc = restDoc;
  }
  const r = SCHEMA[kind].safeParse(doc);
  if (!r.success) {
    const p = zodProblems(r.error.issues)[0];
    return { ok: false, error: `${key}: ${p.path}: ${p.message}` };
  }
  const want = KEY[kind](r.data as never);
  if (want !== rkey) {
    return { ok: false, error: `${key}: key does not match its value (expected …/${want})` };
  }
  return { ok: true, change: { kind, key: rkey, value: r.data } as Change, sled };
}

/** One entry this sled publishes: etcd key, JSON value, and whether two sleds may contend. */
export interface Publication {
  key: string;
  value: string;
  /** V2P: claimed with compare-and-swap on create (one sled per (VNI, IP)). */
  exclusive: boolean;
  /** (VNI, IP) for reports. */
  what: string;
}

/** The prefix length after `/`, dropped: `10.0.0.5/24` → `10.0.0.5`. */
const addr = (cidr: string) => cidr.slice(0, cidr.indexOf("/") < 0 ? undefined : cidr.indexOf("/"));

/**
 * What this sled publishes for a state: the V2P entry of every port with an overlay identity,
 * every port's multicast subscriptions, and its presence.
 */
export function publications(
  prefix: string,
  sled: string,
  underlay: string,
  s: DesiredState,
): Map<string, Publication> {
  const out = new Map<string, Publication>();
  const add = (p: Publication) => out.set(p.key, p);
  add({
    key: sledKey(prefix, sled),
    value: JSON.stringify({ sled, underlay }),
    exclusive: false,
    what: `sled ${sled}`,
  });
  for (const p of s.port.values()) {
    const o = p.overlay;
    if (!o) continue;
    for (const cidr of [o.ipv4, o.ipv6]) {
      if (!cidr) continue;
      const m: V2p = { vni: o.vni, ip: addr(cidr), mac: p.mac, underlay };
      add({
        key: etcdKey(prefix, "v2p", v2pKey(m)),
        value: JSON.stringify({ ...m, sled }),
        exclusive: true,
        what: v2pKey(m),
      });
    }
  }
  for (const [port, groups] of s.subscription) {
    add({
      key: subKey(prefix, sled, port),
      value: JSON.stringify({ sled, port, underlay, groups }),
      exclusive: false,
      what: `subscriptions of ${port}`,
    });
  }
  return out;
}
