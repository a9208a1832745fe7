// /v1/ports/{name}/routes: the port's VPC router entries (list, add, remove, replace).

import { createRoute, z } from "@hono/zod-openapi";
import { RouterEntry } from "../../config/schema.ts";
import { prefix } from "../../config/fields.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json, needPort, PortParam } from "./common.ts";

/** Registers the router-entry routes. */
export function routerRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/ports/{name}/routes";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["router"],
      request: { params: PortParam },
      responses: { 200: json("entries"), ...ERRORS },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      needPort(ctl.state, name);
      return c.json(
        (ctl.state.router.get(name) ?? []).map((e) => ctl.sourced("router", name, e)),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path,
      tags: ["router"],
      request: {
        params: PortParam,
        body: { content: { "application/json": { schema: RouterEntry } }, required: true },
      },
      responses: { 201: json("added"), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const e = c.req.valid("json");
      await ctl.mutate((s) => {
        needPort(s, name);
        const cur = s.router.get(name) ?? [];
        if (cur.some((r) => r.destination === e.destination)) {
          throw new ControlError(409, "destination", `${name} already routes ${e.destination}`);
        }
        return { changes: [{ kind: "router", key: name, value: [...cur, e] }], result: null };
      });
      return c.json(e, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "put",
      path,
      tags: ["router"],
      request: {
        params: PortParam,
        body: { content: { "application/json": { schema: z.array(RouterEntry) } }, required: true },
      },
      responses: { 200: json("replaced"), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const entries = c.req.valid("json");
      await ctl.mutate((s) => {
        needPort(s, name);
        return {
          changes: [{ kind: "router", key: name, value: entries.length ? entries : null }],
          result: null,
        };
      });
      return c.json(entries, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["router"],
      request: { params: PortParam, query: z.object({ destination: prefix }) },
      responses: { 200: json("removed"), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const { destination } = c.req.valid("query");
      await ctl.mutate((s) => {
        needPort(s, name);
        const cur = s.router.get(name) ?? [];
        const next = cur.filter((r) => r.destination !== destination);
        if (next.length === cur.length) {
          throw new ControlError(404, "destination", `no entry for ${destination}`);
        }
        return {
          changes: [{ kind: "router", key: name, value: next.length ? next : null }],
          result: null,
        };
      });
      return c.json({ removed: destination }, 200);
    },
  );
}
