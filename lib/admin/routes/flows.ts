// /v1/ports/{name}/flows/{table}: dump and clear UFT/LFT/TCP flows, when the datapath can.

import { createRoute, z } from "@hono/zod-openapi";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { ERRORS, json, needPort, PortParam, UNSUPPORTED } from "./common.ts";
import { FlowRows } from "./schemas.ts";

/** Registers the flow-table routes. */
export function flowRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/ports/{name}/flows/{table}";
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["flows"],
      request: { params: PortParam.extend({ table: z.enum(["uft", "lft", "tcp"]) }) },
      responses: { 200: json("flows", FlowRows), ...ERRORS, ...UNSUPPORTED },
    }),
    async (c) => {
      const { name, table } = c.req.valid("param");
      needPort(ctl.state, name);
      if (!ctl.datapath.dumpFlows) {
        return c.json({ error: `${ctl.datapath.platform} datapath keeps no flow tables` }, 501);
      }
      return c.json(await ctl.datapath.dumpFlows(name, table), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path,
      tags: ["flows"],
      request: {
        params: PortParam.extend({ table: z.enum(["uft", "lft"]) }),
        query: z.object({ layer: z.string().regex(/^[a-z0-9_-]{1,32}$/).optional() }),
      },
      responses: {
        200: json("cleared", z.object({ cleared: z.number() })),
        ...ERRORS,
        ...UNSUPPORTED,
      },
    }),
    async (c) => {
      const { name, table } = c.req.valid("param");
      const { layer } = c.req.valid("query");
      needPort(ctl.state, name);
      if (!ctl.datapath.clearFlows) {
        return c.json({ error: `${ctl.datapath.platform} datapath keeps no flow tables` }, 501);
      }
      return c.json({ cleared: await ctl.datapath.clearFlows(name, table, layer) }, 200);
    },
  );
}
