// The admin HTTP application: one OpenAPIHono app with auth, a body limit and uniform errors
// (`{error, field}`, never a stack trace), every resource's routes mounted under /v1.

import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import { getLogger } from "@logtape/logtape";
import { zodProblems } from "../config/load.ts";
import { audit } from "./audit.ts";
import { bearerMatches } from "./auth.ts";
import { type Control, ControlError } from "./control.ts";
import { DatapathRejected } from "../contract/datapath.ts";
import { renderMetrics } from "./metrics.ts";
import { type RateLimit, rateLimit, TokenBuckets } from "./ratelimit.ts";
import { portRoutes } from "./routes/ports.ts";
import { firewallRoutes } from "./routes/firewall.ts";
import { routerRoutes } from "./routes/router.ts";
import { externalIpRoutes } from "./routes/external_ips.ts";
import { mappingRoutes } from "./routes/mappings.ts";
import { underlayRoutes } from "./routes/underlay.ts";
import { flowRoutes } from "./routes/flows.ts";
import { captureRoutes } from "./routes/capture.ts";
import { traceRoutes } from "./routes/trace.ts";
import { multicastRoutes } from "./routes/multicast.ts";
import { inspectRoutes } from "./routes/inspect.ts";
import { fleetRoutes } from "./routes/fleet.ts";
import { subnetRoutes } from "./routes/subnets.ts";
import { multicastSubRoutes } from "./routes/multicast_subs.ts";
import { v2bRoutes } from "./routes/v2b.ts";

/** The admin app type every route module registers on. */
export type AdminApp = OpenAPIHono;

/** How the admin app is built. */
export interface AdminOptions {
  /** Bearer token; null disables auth (only sensible on loopback). */
  token: string | null;
  maxBodyBytes: number;
  version: string;
  /** Per-client limit on expensive endpoints; absent = none. */
  rateLimit?: RateLimit;
}

const log = getLogger(["xdeno", "admin"]);

/** Builds the app around `ctl`. */
export function adminApp(ctl: Control, opt: AdminOptions): AdminApp {
  const app = new OpenAPIHono({
    defaultHook: (r, c) => {
      if (r.success) return;
      const p = zodProblems(r.error.issues)[0];
      const field = r.target === "json" ? p.path : `${r.target}.${p.path}`;
      return c.json({ error: p.message, field }, 400);
    },
  });
  app.onError((e, c) => errorResponse(e, c));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get(
    "/healthz",
    (c) =>
      c.json({
        ok: true,
        platform: ctl.datapath.platform,
        generation: ctl.generation,
        ...(ctl.fleet ? { fleet: ctl.fleet.health() } : {}),
      }),
  );
  app.use("/v1/*", audit(opt.token));
  app.use("*", async (c, next) => {
    if (opt.token !== null && !bearerMatches(c.req.header("authorization"), opt.token)) {
      c.header("WWW-Authenticate", 'Bearer realm="xdeno"');
      return c.json({ error: "missing or wrong bearer token" }, 401);
    }
    await next();
  });
  if (opt.rateLimit) app.use("/v1/*", rateLimit(new TokenBuckets(opt.rateLimit)));
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: opt.maxBodyBytes,
      onError: (c) => c.json({ error: `request body over ${opt.maxBodyBytes} bytes` }, 413),
    }),
  );
  app.get(
    "/metrics",
    (c) => c.text(renderMetrics(ctl), 200, { "content-type": "text/plain; version=0.0.4" }),
  );

  portRoutes(app, ctl);
  firewallRoutes(app, ctl);
  routerRoutes(app, ctl);
  externalIpRoutes(app, ctl);
  mappingRoutes(app, ctl);
  underlayRoutes(app, ctl);
  flowRoutes(app, ctl);
  captureRoutes(app, ctl);
  traceRoutes(app, ctl);
  multicastRoutes(app, ctl);
  inspectRoutes(app, ctl);
  fleetRoutes(app, ctl);
  subnetRoutes(app, ctl);
  multicastSubRoutes(app, ctl);
  v2bRoutes(app, ctl);
  app.doc31("/v1/openapi.json", {
    openapi: "3.1.0",
    info: { title: "xdeno admin API", version: opt.version },
    security: opt.token !== null ? [{ bearer: [] }] : [],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  return app;
}

function errorResponse(e: Error, c: Context): Response {
  if (e instanceof ControlError) {
    return c.json({ error: e.reason, field: e.field }, e.status);
  }
  if (e instanceof DatapathRejected) return c.json({ error: e.reason, field: e.field }, 409);
  if (e instanceof HTTPException) {
    return c.json({ error: e.message || "bad request" }, e.status);
  }
  if (e instanceof SyntaxError) return c.json({ error: "body is not valid JSON" }, 400);
  log.error("internal error on {method} {path}: {error}", {
    method: c.req.method,
    path: c.req.path,
    error: String(e),
  });
  return c.json({ error: "internal error (see the service log)" }, 500);
}
