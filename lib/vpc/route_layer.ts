// The router layer: the route table as engine rules. A matching route hands its target to the
// nat and overlay layers as a typed value, plus two text keys the nat layer's predicates match
// on (the target's class and, for internet gateways, which one); a drop route or no route drops.

import { A, type RuleSpec } from "../engine/rule.ts";
import { Layer } from "../engine/layer.ts";
import { cidrToString } from "../packet/addr.ts";
import { type RouteEntry, routePriority, RouterTable, routerTargetText } from "./router.ts";
import { reason } from "../engine/reason.ts";

/** Action-metadata key of the target's class: TARGET_IG, TARGET_IP_TEXT or TARGET_SUBNET_TEXT. */
export const META_TARGET = "router-target";
/** Action-metadata key naming the internet gateway (`ig` or `ig=<id>`); IGW targets only. */
export const META_IGW = "router-igw";
/** Typed action-metadata key: the matched route's `RouteEntry` (read with `meta.value`). */
export const META_ROUTE = "router-route";
/** Values of META_TARGET. */
export const TARGET_IG = "ig";
export const TARGET_IP_TEXT = "ip";
export const TARGET_SUBNET_TEXT = "subnet";

/** Drop reasons of this layer. */
export const DROP_NO_ROUTE = reason("no route");
export const DROP_ROUTE = reason("route drop");

/** The engine rule for one route. */
export function routeRuleSpec(r: RouteEntry): RuleSpec {
  const t = r.target;
  const cls = t.kind === "internet-gateway"
    ? TARGET_IG
    : t.kind === "ip"
    ? TARGET_IP_TEXT
    : TARGET_SUBNET_TEXT;
  const igw = t.kind === "internet-gateway" ? routerTargetText(t) : null;
  return {
    priority: routePriority(r.cidr.len, r.class, r.cidr.af),
    name: `${cidrToString(r.cidr)} ${r.class} → ${routerTargetText(t)}`,
    predicates: [{ kind: "ipDst", cidrs: [cidrToString(r.cidr)] }],
    action: t.kind === "drop" ? A.deny(DROP_ROUTE) : {
      kind: "meta",
      set: (ctx) => {
        ctx.meta.set(META_TARGET, cls);
        if (igw !== null) ctx.meta.set(META_IGW, igw);
        ctx.meta.setValue(META_ROUTE, r);
      },
    },
  };
}

/** Outbound rules of a route table; inbound is allow-all (routing is an outbound decision). */
export function routerRules(table: RouterTable): { out: RuleSpec[]; in: RuleSpec[] } {
  const out = table.entries().map(routeRuleSpec);
  out.push({ priority: 0xffff, name: "no route", action: A.deny(DROP_NO_ROUTE) });
  return { out, in: [] };
}

/** The router layer (no route → drop). */
export function routerLayer(table: RouterTable): Layer {
  return new Layer({
    name: "router",
    defaults: { in: "allow", out: "deny" },
    rules: routerRules(table),
  });
}
