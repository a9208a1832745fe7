// GET /v1/fleet: the fleet agent's state (connection, revision, published and conflicting
// entries, counters). Without fleet mode: `{enabled: false}`.

import { createRoute, z } from "@hono/zod-openapi";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { json } from "./common.ts";

/** The fleet agent's state as GET /v1/fleet answers it. */
const FleetStatus = z.union([
  z.object({ enabled: z.literal(false) }),
  z.object({
    enabled: z.literal(true),
    sledId: z.string(),
    endpoints: z.array(z.string()),
    prefix: z.string(),
    state: z.enum(["ok", "degraded"]),
    revision: z.number(),
    degradedSince: z.string().optional(),
    degradedForMs: z.number().optional(),
    headRevision: z.number(),
    lease: z.string().nullable(),
    leaseTtlSeconds: z.number(),
    published: z.array(z.string()),
    conflicts: z.array(z.object({ key: z.string(), what: z.string(), holder: z.string() })),
    shadowed: z.record(z.string(), z.string()),
    entries: z.number(),
    sleds: z.array(z.string()),
    counters: z.record(z.string(), z.number()),
    uptimeMs: z.number(),
  }),
]);

/** Registers the fleet route. */
export function fleetRoutes(app: AdminApp, ctl: Control): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/fleet",
      tags: ["fleet"],
      responses: { 200: json("fleet status", FleetStatus) },
    }),
    (c) => c.json(ctl.fleet ? { enabled: true, ...ctl.fleet.status() } : { enabled: false }, 200),
  );
}
