// /v1/ports/{name}/firewall: list, add, remove by id, replace all (opteadm's add-fw-rule,
// rm-fw-rule, set-fw-rules).

import { createRoute, z } from "@hono/zod-openapi";
import { FirewallRule } from "../../config/schema.ts";
import { assignRuleIds } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json, needPort, portList, PortParam, setPortList } from "./common.ts";
import { FirewallRules, Removed, SourcedFirewallRules } from "./schemas.ts";

const sorted = (rules: FirewallRule[]) =>
  [...rules].sort((a, b) =>
    a.direction.localeCompare(b.direction) || a.priority - b.priority || a.id! - b.id!
  );

/** Registers the firewall routes. */
export function firewallRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/ports/{name}/firewall";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["firewall"],
      request: { params: PortParam },
      responses: { 200: json("rules", SourcedFirewallRules), ...ERRORS },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      needPort(ctl.state, name);
      const rules = sorted(ctl.state.firewall.get(name) ?? []);
      return c.json(rules.map((r) => ctl.sourced("firewall", name, r)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path,
      tags: ["firewall"],
      request: {
        params: PortParam,
        body: { content: { "application/json": { schema: FirewallRule } }, required: true },
      },
      responses: { 201: json("the rule with its id", FirewallRule), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const rule = c.req.valid("json");
      const added = await ctl.mutate((s) => {
        const rules = portList(s, "firewall", name);
        if (rule.id !== undefined && rules.some((r) => r.id === rule.id)) {
          throw new ControlError(409, "id", `rule ${rule.id} exists on ${name}`);
        }
        const next = assignRuleIds([...rules, rule]);
        return {
          changes: [{ kind: "firewall", key: name, value: next }],
          result: next[next.length - 1],
        };
      });
      return c.json(added, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "put",
      path,
      tags: ["firewall"],
      request: {
        params: PortParam,
        body: {
          content: { "application/json": { schema: z.array(FirewallRule) } },
          required: true,
        },
      },
      responses: { 200: json("the new rule set", FirewallRules), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const rules = c.req.valid("json");
      const ids = rules.flatMap((r) => (r.id === undefined ? [] : [r.id]));
      if (new Set(ids).size !== ids.length) throw new ControlError(400, "id", "duplicate rule id");
      const next = assignRuleIds(rules);
      await ctl.mutate((s) => {
        needPort(s, name);
        return { changes: [setPortList("firewall", name, next)], result: null };
      });
      return c.json(sorted(next), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: `${path}/{id}`,
      tags: ["firewall"],
      request: {
        params: PortParam.extend({
          id: z.string().regex(/^\d{1,9}$/, {
            message: "is not a rule id (a number, as list-fw-rules shows)",
          }).transform(Number),
        }),
      },
      responses: { 200: json("removed", Removed), ...ERRORS },
    }),
    async (c) => {
      const { name, id } = c.req.valid("param");
      await ctl.mutate((s) => {
        const rules = portList(s, "firewall", name);
        if (!rules.some((r) => r.id === id)) {
          throw new ControlError(404, "id", `no rule ${id} on ${name}`);
        }
        const next = rules.filter((r) => r.id !== id);
        return { changes: [setPortList("firewall", name, next)], result: null };
      });
      return c.json({ removed: id }, 200);
    },
  );
}
