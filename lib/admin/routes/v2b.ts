// /v1/v2b: virtual-to-boundary mappings (opteadm set-v2b, clear-v2b, dump-v2b). An entry is
// (vni, prefix) → endpoints. As upstream, set adds endpoints to the entry and clear removes the
// endpoints it names (matched by address), the entry going when none is left.

import { createRoute, z } from "@hono/zod-openapi";
import { ipv6, prefix, vni } from "../../config/fields.ts";
import { V2b } from "../../config/schema.ts";
import { v2bKey } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { body, ERRORS, json } from "./common.ts";
import { Source } from "./schemas.ts";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Registers the V2B routes. */
export function v2bRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/v2b";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["mappings"],
      responses: { 200: json("every v2b entry", z.array(V2b.safeExtend({ source: Source }))) },
    }),
    (c) => c.json([...ctl.state.v2b].map(([k, v]) => ctl.sourced("v2b", k, v)), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path,
      tags: ["mappings"],
      request: { body: body(V2b) },
      responses: { 200: json("the entry after adding the endpoints", V2b), ...ERRORS },
    }),
    async (c) => {
      const v = c.req.valid("json");
      const key = v2bKey(v);
      const next = await ctl.mutate((s) => {
        const cur = s.v2b.get(key)?.endpoints ?? [];
        const endpoints = [...cur, ...v.endpoints.filter((e) => !cur.some((x) => same(x, e)))];
        const entry = { ...v, endpoints };
        return { changes: [{ kind: "v2b", key, value: entry }], result: entry };
      });
      return c.json(next, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["mappings"],
      request: {
        query: z.object({
          vni: z.coerce.number().pipe(vni),
          prefix,
          /** Endpoints to remove (repeat the parameter); absent: the whole entry. */
          endpoint: z.union([ipv6, z.array(ipv6)]).optional(),
        }),
      },
      responses: {
        200: json("the entry left (null when it went)", V2b.nullable()),
        ...ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const drop = q.endpoint === undefined ? null : [q.endpoint].flat();
      const key = v2bKey(q);
      const left = await ctl.mutate((s) => {
        const cur = s.v2b.get(key);
        if (!cur) throw new ControlError(404, "prefix", `no v2b entry ${key}`);
        const missing = drop?.find((e) => !cur.endpoints.some((x) => same(x, e)));
        if (missing) {
          throw new ControlError(404, "endpoint", `${missing} is not an endpoint of ${key}`);
        }
        const endpoints = drop ? cur.endpoints.filter((x) => !drop.some((e) => same(x, e))) : [];
        const value = endpoints.length ? { ...cur, endpoints } : null;
        return { changes: [{ kind: "v2b", key, value }], result: value };
      });
      return c.json(left, 200);
    },
  );
}
