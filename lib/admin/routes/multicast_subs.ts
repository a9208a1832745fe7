// /v1/multicast/subscriptions: the sled's subscriptions by group (opteadm dump-mcast-subs) and
// removal of a group from every port (mcast-unsubscribe-all, a no-op when nobody subscribes).

import { createRoute, z } from "@hono/zod-openapi";
import { ip } from "../../config/fields.ts";
import type { Change } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { ERRORS, json, setPortList } from "./common.ts";

const Subs = z.array(z.object({ group: z.string(), ports: z.array(z.string()) }));

/** Registers the sled-wide subscription routes. */
export function multicastSubRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/multicast/subscriptions";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["multicast"],
      responses: { 200: json("group → subscribed ports", Subs) },
    }),
    (c) => {
      const by = new Map<string, string[]>();
      for (const [port, groups] of ctl.state.subscription) {
        for (const g of groups) by.set(g, [...(by.get(g) ?? []), port].sort());
      }
      return c.json(
        [...by].sort(([a], [b]) => a.localeCompare(b)).map(([group, ports]) => ({ group, ports })),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["multicast"],
      request: { query: z.object({ group: ip }) },
      responses: {
        200: json(
          "ports that were unsubscribed",
          z.object({ group: z.string(), ports: z.array(z.string()) }),
        ),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { group } = c.req.valid("query");
      const ports = await ctl.mutate((s) => {
        const changes: Change[] = [];
        for (const [port, groups] of s.subscription) {
          if (!groups.includes(group)) continue;
          changes.push(setPortList("subscription", port, groups.filter((g) => g !== group)));
        }
        return { changes, result: changes.map((ch) => ch.key).sort() };
      });
      return c.json({ group, ports }, 200);
    },
  );
}
