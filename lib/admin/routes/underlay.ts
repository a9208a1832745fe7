// /v1/underlay/routes: underlay routes with their ECMP next hops (list, set, remove).

import { z } from "@hono/zod-openapi";
import { UnderlayRoute } from "../../config/schema.ts";
import { prefix6 } from "../../config/fields.ts";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { keyedTableRoutes } from "./keyed.ts";
import { Removed, SourcedUnderlayRoutes } from "./schemas.ts";

/** Registers the underlay route routes. */
export function underlayRoutes(app: AdminApp, ctl: Control): void {
  keyedTableRoutes(app, ctl, {
    kind: "route",
    path: "/v1/underlay/routes",
    tag: "underlay",
    list: ["routes", SourcedUnderlayRoutes],
    schema: UnderlayRoute,
    put: "set",
    key: (r) => r.prefix,
    query: z.object({ prefix: prefix6 }),
    keyOf: (q) => q.prefix as string,
    removed: ["removed", Removed, (k) => ({ removed: k })],
    missing: (k) => ["prefix", `no route ${k}`],
  });
}
