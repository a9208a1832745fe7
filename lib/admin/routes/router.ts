// /v1/ports/{name}/routes: the port's VPC router entries (opteadm add-router-entry,
// del-router-entry, replace). As upstream: duplicates are allowed and a deletion names the
// exact entry (destination, target, class).

import { createRoute, z } from "@hono/zod-openapi";
import { canonical } from "../../config/resources.ts";
import { RouterEntry } from "../../config/schema.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { body, ERRORS, json, needPort, portList, PortParam, setPortList } from "./common.ts";
import { SourcedRouterEntries } from "./schemas.ts";

/** Registers the router-entry routes. */
export function routerRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/ports/{name}/routes";
  const Entries = z.array(RouterEntry);
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["router"],
      request: { params: PortParam },
      responses: { 200: json("entries", SourcedRouterEntries), ...ERRORS },
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
      request: { params: PortParam, body: body(RouterEntry) },
      responses: {
        201: json("added (one more entry, even if an equal one exists)", RouterEntry),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const e = c.req.valid("json");
      await ctl.mutate((s) => {
        const cur = portList(s, "router", name);
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
      request: { params: PortParam, body: body(Entries) },
      responses: { 200: json("replaced: the whole table", Entries), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const entries = c.req.valid("json");
      await ctl.mutate((s) => {
        needPort(s, name);
        return { changes: [setPortList("router", name, entries)], result: null };
      });
      return c.json(entries, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["router"],
      request: { params: PortParam, body: body(RouterEntry) },
      responses: {
        200: json("removed (one matching entry)", z.object({ removed: RouterEntry })),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const e = c.req.valid("json");
      await ctl.mutate((s) => {
        const cur = portList(s, "router", name);
        const key = canonical(normal(e));
        const i = cur.findIndex((r) => canonical(normal(r)) === key);
        if (i < 0) {
          throw new ControlError(
            404,
            "destination",
            `no entry ${e.destination} → ${e.target.kind} (${e.class}) on ${name}`,
          );
        }
        const next = cur.filter((_, j) => j !== i);
        return { changes: [setPortList("router", name, next)], result: null };
      });
      return c.json({ removed: e }, 200);
    },
  );
}

/** An entry with address text lower-cased, so `FD00::/64` and `fd00::/64` compare equal. */
function normal(e: RouterEntry): RouterEntry {
  return JSON.parse(JSON.stringify(e).toLowerCase());
}
