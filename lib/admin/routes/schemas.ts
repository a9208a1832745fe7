// Response bodies of the admin API as zod schemas, so the OpenAPI document says what every
// route answers (request bodies reuse the config schemas). Dumps whose rows the engine builds
// are described field by field.

import { z } from "@hono/zod-openapi";
import {
  ExternalIps,
  FirewallRule,
  M2p,
  McastForwarding,
  Overlay,
  RouterEntry,
  UnderlayRoute,
  V2p,
} from "../../config/schema.ts";

/** Where a listed resource comes from: the config file, an API change, or the fleet (etcd). */
export const Source = z.enum(["config", "api", "fleet"]);
const src = { source: Source };

/** The body of every error: what is wrong, and the field it is about when there is one. */
export const ErrorBody = z.object({ error: z.string(), field: z.string().optional() });

/** `{cleared: key}` / `{removed: key}` acknowledgements. */
export const Cleared = z.object({ cleared: z.string() });
export const Removed = z.object({ removed: z.union([z.string(), z.number()]) });

/** A port's run-time status. */
export const PortStatus = z.object({
  state: z.enum(["running", "paused"]),
  link: z.object({ name: z.string(), kind: z.string(), up: z.boolean() }),
  counters: z.record(z.string(), z.number()),
});

/** A port as listed: its spec, table sizes, external IPs, groups and status. */
export const PortView = z.object({
  name: z.string(),
  kind: z.enum(["host", "system", "instance"]),
  zone: z.string().optional(),
  mac: z.string(),
  addresses: z.array(z.string()),
  mtu: z.number(),
  overlay: Overlay.optional(),
  firewallRules: z.number(),
  routerEntries: z.number(),
  externalIps: ExternalIps.nullable(),
  multicast: z.array(z.string()),
  status: PortStatus.nullable(),
  source: Source,
});

/** pause/start answer. */
export const PortState = z.object({
  name: z.string(),
  state: z.enum(["running", "paused"]).nullable(),
});

export const FirewallRules = z.array(FirewallRule);
/** Listings carry each resource's `source`. */
export const SourcedFirewallRules = z.array(FirewallRule.safeExtend(src));
export const SourcedUnderlayRoutes = z.array(UnderlayRoute.safeExtend(src));
export const SourcedMcastForwardings = z.array(McastForwarding.safeExtend(src));
export const SourcedExternalIps = ExternalIps.safeExtend(src);
export const SourcedRouterEntries = z.array(RouterEntry.safeExtend(src));
export const SourcedV2p = V2p.safeExtend(src);
export const SourcedM2p = M2p.safeExtend(src);
export const V2ps = z.array(V2p);
export const M2ps = z.array(M2p);
export const McastForwardings = z.array(McastForwarding);
export const UnderlayRoutes = z.array(UnderlayRoute);
export const Groups = z.array(z.string());

const Counters = z.object({
  lftHit: z.number(),
  lftMiss: z.number(),
  ruleHits: z.number(),
  defaultHits: z.number(),
  drops: z.number(),
  hairpins: z.number(),
});
const LayerStats = z.object({
  out: Counters,
  in: Counters,
  lftFull: z.number(),
  lftEvictions: z.number(),
  lftExpired: z.number(),
  releases: z.number(),
});
// A predicate as data: `{kind, …}` with the kind's own fields (addresses, numbers, port
// ranges, and for not/any/all the nested predicates, described one level deep).
const PredValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.union([z.string(), z.number(), z.array(z.number())])),
]);
const InnerPredicate = z.object({ kind: z.string() }).catchall(PredValue);
const Predicate = z.object({ kind: z.string() }).catchall(
  z.union([PredValue, InnerPredicate, z.array(InnerPredicate)]),
);
const RuleRow = z.object({
  id: z.number(),
  name: z.string(),
  priority: z.number(),
  action: z.string(),
  predicates: z.array(Predicate),
  hits: z.number(),
});
const PairRow = z.object({ out: z.string(), in: z.string(), desc: z.string(), rule: z.number() });

/** One layer's rules, LFT pairs and counters (dump-layer). */
export const LayerDump = z.object({
  layer: z.string(),
  name: z.string(),
  defaults: z.object({ out: z.string(), in: z.string() }),
  rules: z.object({ out: z.array(RuleRow), in: z.array(RuleRow) }),
  flows: z.array(PairRow),
  stats: LayerStats,
});

/** list-layers rows. */
export const LayerRows = z.array(z.object({
  layer: z.string(),
  rulesIn: z.number(),
  rulesOut: z.number(),
  flows: z.number(),
  stats: LayerStats.nullable(),
}));

/** Flow dumps: UFT rows, TCP rows, or (lft) one dump per layer. */
export const FlowRows = z.union([
  z.array(z.object({
    dir: z.string(),
    flow: z.string(),
    epoch: z.number(),
    hits: z.number(),
    compiled: z.boolean(),
    transforms: z.array(z.string()),
    tcp: z.string().optional(),
    paired: z.boolean(),
  })),
  z.array(z.object({ dir: z.string(), flow: z.string(), state: z.string(), segments: z.number() })),
  z.array(LayerDump),
]);

/** Underlay links. */
export const LinkRows = z.array(z.object({
  name: z.string(),
  kind: z.string(),
  up: z.boolean(),
  mtu: z.number(),
  linkLocal: z.string(),
  neighbours: z.number(),
}));

/** Neighbour cache entries. */
export const NeighbourRows = z.array(z.object({
  link: z.string(),
  address: z.string(),
  mac: z.string().nullable(),
  state: z.string(),
  routes: z.number(),
  confirmedMsAgo: z.number().nullable(),
}));

/** A trace: verdict, each layer's decision, the resulting frame (hex). */
export const TraceResult = z.object({
  verdict: z.string(),
  layers: z.array(z.object({
    layer: z.string(),
    decision: z.string(),
    rule: z.string().optional(),
    transform: z.string().optional(),
  })),
  frame: z.string().nullable(),
  reason: z.string().optional(),
  hairpin: z.string().optional(),
});
