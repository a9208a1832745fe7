// Multicast: per-port group subscriptions (/v1/ports/{name}/multicast) and underlay
// forwarding (/v1/multicast/forwarding). M2P lives with the other mappings.

import { createRoute, z } from "@hono/zod-openapi";
import { McastForwarding } from "../../config/schema.ts";
import { ip, ipv6 } from "../../config/fields.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json, needPort, portList, PortParam, setPortList } from "./common.ts";
import { keyedTableRoutes } from "./keyed.ts";
import { Groups, Removed, SourcedMcastForwardings } from "./schemas.ts";

/** Registers the multicast routes. */
export function multicastRoutes(app: AdminApp, ctl: Control): void {
  const sub = "/v1/ports/{name}/multicast";
  app.openapi(
    createRoute({
      method: "get",
      path: sub,
      tags: ["multicast"],
      request: { params: PortParam },
      responses: { 200: json("groups", Groups), ...ERRORS },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      needPort(ctl.state, name);
      return c.json(ctl.state.subscription.get(name) ?? [], 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: sub,
      tags: ["multicast"],
      request: {
        params: PortParam,
        body: {
          content: { "application/json": { schema: z.strictObject({ group: ip }) } },
          required: true,
        },
      },
      responses: { 201: json("subscribed: the port's groups", Groups), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const { group } = c.req.valid("json");
      const groups = await ctl.mutate((s) => {
        const cur = portList(s, "subscription", name);
        if (cur.includes(group)) {
          throw new ControlError(409, "group", `${name} already subscribes to ${group}`);
        }
        const next = [...cur, group];
        return { changes: [{ kind: "subscription", key: name, value: next }], result: next };
      });
      return c.json(groups, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: sub,
      tags: ["multicast"],
      request: { params: PortParam, query: z.object({ group: ip }) },
      responses: { 200: json("unsubscribed", z.object({ unsubscribed: z.string() })), ...ERRORS },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const { group } = c.req.valid("query");
      await ctl.mutate((s) => {
        const cur = portList(s, "subscription", name);
        if (!cur.includes(group)) {
          throw new ControlError(404, "group", `${name} does not subscribe to ${group}`);
        }
        const next = cur.filter((g) => g !== group);
        return { changes: [setPortList("subscription", name, next)], result: null };
      });
      return c.json({ unsubscribed: group }, 200);
    },
  );

  keyedTableRoutes(app, ctl, {
    kind: "mcastFwd",
    path: "/v1/multicast/forwarding",
    tag: "multicast",
    list: ["forwarding entries", SourcedMcastForwardings],
    schema: McastForwarding,
    put: "set",
    key: (f) => f.underlay,
    query: z.object({ underlay: ipv6 }),
    keyOf: (q) => q.underlay as string,
    removed: ["removed", Removed, (k) => ({ removed: k })],
    missing: (k) => ["underlay", `no forwarding for ${k}`],
  });
}
