// /v1/ports/{name}/external-ips: show, set, clear (opteadm set-external-ips).

import { createRoute } from "@hono/zod-openapi";
import { ExternalIps } from "../../config/schema.ts";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { ERRORS, json, needPort, PortParam } from "./common.ts";
import { Cleared, SourcedExternalIps } from "./schemas.ts";

/** Registers the external-IP routes. */
export function externalIpRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/ports/{name}/external-ips";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["nat"],
      request: { params: PortParam },
      responses: { 200: json("external IPs or null", SourcedExternalIps.nullable()), ...ERRORS },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      needPort(ctl.state, name);
      const v = ctl.state.externalIps.get(name);
      return c.json(v ? ctl.sourced("externalIps", name, v) : null, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "put",
      path,
      tags: ["nat"],
      request: {
        params: PortParam,
        body: { content: { "application/json": { schema: ExternalIps } }, required: true },
      },
      responses: { 200: json("set", ExternalIps), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const v = c.req.valid("json");
      await ctl.mutate((s) => {
        needPort(s, name);
        return { changes: [{ kind: "externalIps", key: name, value: v }], result: null };
      });
      return c.json(v, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["nat"],
      request: { params: PortParam },
      responses: { 200: json("cleared", Cleared), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      await ctl.mutate((s) => {
        needPort(s, name);
        return {
          changes: s.externalIps.has(name) ? [{ kind: "externalIps", key: name, value: null }] : [],
          result: null,
        };
      });
      return c.json({ cleared: name }, 200);
    },
  );
}
