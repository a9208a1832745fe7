// GET /v1/fleet: the fleet agent's state (connection, revision, published and conflicting
// entries, counters). Without fleet mode: `{enabled: false}`.

import { createRoute } from "@hono/zod-openapi";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { json } from "./common.ts";

/** Registers the fleet route. */
export function fleetRoutes(app: AdminApp, ctl: Control): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/fleet",
      tags: ["fleet"],
      responses: { 200: json("fleet status") },
    }),
    (c) => c.json(ctl.fleet ? { enabled: true, ...ctl.fleet.status() } : { enabled: false }, 200),
  );
}
