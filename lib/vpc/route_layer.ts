// The router layer: the route table as engine rules. A matching route writes its target into
// action metadata for the nat and overlay layers; a drop route or no route drops.

import { A, type RuleSpec } from "../engine/rule.ts";
import { Layer } from "../engine/layer.ts";
import { cidrToString } from "./ip.ts";
import { type RouteEntry, routePriority, RouterTable } from "./router.ts";

/** Action-metadata keys the router writes. */
export const META_TARGET = "router-target";
export const META_TARGET_IP = "router-ip";
/** Values of META_TARGET. */
export const TARGET_IG = "ig";
export const TARGET_IP_TEXT = "ip";
export const TARGET_SUBNET_TEXT = "subnet";

/** Drop reasons of this layer. */
export const DROP_NO_ROUTE = "no route";
export const DROP_ROUTE = "route drop";

/** The engine rule for one route. */
export function routeRuleSpec(r: RouteEntry): RuleSpec {
  const t = r.target;
  const meta: Record<string, string> = {};
  if (t.kind === "internet-gateway") meta[META_TARGET] = TARGET_IG;
  else if (t.kind === "ip") {
    meta[META_TARGET] = TARGET_IP_TEXT;
    meta[META_TARGET_IP] = t.ip;
  } else if (t.kind === "vpc-subnet") meta[META_TARGET] = TARGET_SUBNET_TEXT;
  return {
    priority: routePriority(r.cidr.len, r.class),
    name: `${cidrToString(r.cidr)} ${r.class} → ${t.kind}${t.kind === "ip" ? `=${t.ip}` : ""}`,
    predicates: [{ kind: "ipDst", cidrs: [cidrToString(r.cidr)] }],
    action: t.kind === "drop" ? A.deny(DROP_ROUTE) : A.meta(meta),
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
