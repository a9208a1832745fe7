// /v1/ports: list, show, create, delete, pause/start.

import { createRoute, z } from "@hono/zod-openapi";
import { Port } from "../../config/schema.ts";
import { assignRuleIds, type Change, PER_PORT_KINDS } from "../../config/resources.ts";
import { defaultFirewall, systemRoutes } from "../../config/routes.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json, needPort, PortParam, UNSUPPORTED } from "./common.ts";
import { PortState, PortView, Removed } from "./schemas.ts";

/** Registers the port routes. */
export function portRoutes(app: AdminApp, ctl: Control): void {
  const view = (name: string) => {
    const spec = ctl.state.port.get(name)!;
    return {
      ...spec,
      firewallRules: ctl.state.firewall.get(name)?.length ?? 0,
      routerEntries: ctl.state.router.get(name)?.length ?? 0,
      externalIps: ctl.state.externalIps.get(name) ?? null,
      multicast: ctl.state.subscription.get(name) ?? [],
      status: ctl.datapath.portStatus(name),
      source: ctl.sourceOf("port", name) ?? "config",
    };
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ports",
      tags: ["ports"],
      responses: { 200: json("every port", z.array(PortView)) },
    }),
    (c) => c.json([...ctl.state.port.keys()].sort().map(view), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ports/{name}",
      tags: ["ports"],
      request: { params: PortParam },
      responses: { 200: json("one port", PortView), ...ERRORS },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      needPort(ctl.state, name);
      return c.json(view(name), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/ports",
      tags: ["ports"],
      request: { body: { content: { "application/json": { schema: Port } }, required: true } },
      responses: { 201: json("created", PortView), ...ERRORS },
    }),
    async (c) => {
      const p = c.req.valid("json");
      await ctl.mutate((s) => {
        if (s.port.has(p.name)) throw new ControlError(409, "name", `port ${p.name} exists`);
        const { firewall, routes, externalIps, multicast, subnets, ...spec } = p;
        const changes: Change[] = [{ kind: "port", key: p.name, value: spec }];
        const rules = firewall ?? defaultFirewall(p);
        if (rules.length) {
          changes.push({ kind: "firewall", key: p.name, value: assignRuleIds(rules) });
        }
        const table = routes ?? systemRoutes(p);
        if (table.length) changes.push({ kind: "router", key: p.name, value: table });
        if (externalIps) changes.push({ kind: "externalIps", key: p.name, value: externalIps });
        if (subnets) changes.push({ kind: "subnets", key: p.name, value: subnets });
        if (multicast.length) changes.push({ kind: "subscription", key: p.name, value: multicast });
        return { changes, result: null };
      });
      return c.json(view(p.name), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/ports/{name}",
      tags: ["ports"],
      request: { params: PortParam },
      responses: { 200: json("removed, with its tables", Removed), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      await ctl.mutate((s) => {
        needPort(s, name);
        const changes: Change[] = [];
        for (const k of PER_PORT_KINDS) {
          if (s[k].has(name)) changes.push({ kind: k, key: name, value: null });
        }
        changes.push({ kind: "port", key: name, value: null });
        return { changes, result: null };
      });
      return c.json({ removed: name }, 200);
    },
  );
  for (const action of ["pause", "start"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/v1/ports/{name}/${action}`,
        tags: ["ports"],
        request: { params: PortParam },
        responses: {
          200: json(`port ${action === "pause" ? "paused" : "running"}`, PortState),
          ...ERRORS,
          ...UNSUPPORTED,
        },
      }),
      async (c) => {
        const { name } = c.req.valid("param");
        needPort(ctl.state, name);
        if (!ctl.datapath.setPortState) {
          return c.json({ error: `${action} not supported by this datapath` }, 501);
        }
        await ctl.datapath.setPortState(name, action === "pause" ? "paused" : "running");
        return c.json({ name, state: ctl.datapath.portStatus(name)?.state ?? null }, 200);
      },
    );
  }
}
