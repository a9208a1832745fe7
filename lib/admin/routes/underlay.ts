// /v1/underlay/routes: underlay routes with their ECMP next hops (list, set, remove).

import { createRoute, z } from "@hono/zod-openapi";
import { UnderlayRoute } from "../../config/schema.ts";
import { prefix6 } from "../../config/fields.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json } from "./common.ts";
import { Removed, SourcedUnderlayRoutes } from "./schemas.ts";

/** Registers the underlay route routes. */
export function underlayRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/underlay/routes";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["underlay"],
      responses: { 200: json("routes", SourcedUnderlayRoutes) },
    }),
    (c) => c.json([...ctl.state.route].map(([k, v]) => ctl.sourced("route", k, v)), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path,
      tags: ["underlay"],
      request: {
        body: { content: { "application/json": { schema: UnderlayRoute } }, required: true },
      },
      responses: { 200: json("set", UnderlayRoute), ...ERRORS },
    }),
    async (c) => {
      const r = c.req.valid("json");
      await ctl.mutate(() => ({
        changes: [{ kind: "route", key: r.prefix, value: r }],
        result: null,
      }));
      return c.json(r, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["underlay"],
      request: { query: z.object({ prefix: prefix6 }) },
      responses: { 200: json("removed", Removed), ...ERRORS },
    }),
    async (c) => {
      const { prefix } = c.req.valid("query");
      await ctl.mutate((s) => {
        if (!s.route.has(prefix)) throw new ControlError(404, "prefix", `no route ${prefix}`);
        return { changes: [{ kind: "route", key: prefix, value: null }], result: null };
      });
      return c.json({ removed: prefix }, 200);
    },
  );
}
