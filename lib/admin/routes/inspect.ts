// Read-only views the datapath computes: layers of a port, underlay links and neighbours.
// A datapath that lacks one answers 501, so the API shape is stable across platforms.

import { createRoute, z } from "@hono/zod-openapi";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json, needPort, PortParam, UNSUPPORTED } from "./common.ts";
import { LayerDump, LayerRows, LinkRows, NeighbourRows } from "./schemas.ts";

const unsupported = (ctl: Control, what: string) => ({
  error: `${ctl.datapath.platform} datapath has no ${what}`,
});

/** Registers the inspection routes. */
export function inspectRoutes(app: AdminApp, ctl: Control): void {
  const dp = ctl.datapath;
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ports/{name}/layers",
      tags: ["layers"],
      request: { params: PortParam },
      responses: { 200: json("layers", LayerRows), ...ERRORS, ...UNSUPPORTED },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      needPort(ctl.state, name);
      if (!dp.listLayers) return c.json(unsupported(ctl, "layers"), 501);
      return c.json(await dp.listLayers(name) ?? [], 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/ports/{name}/layers/{layer}",
      tags: ["layers"],
      request: { params: PortParam.extend({ layer: z.string().regex(/^[a-z0-9_-]{1,32}$/) }) },
      responses: { 200: json("the layer's rules and flows", LayerDump), ...ERRORS, ...UNSUPPORTED },
    }),
    async (c) => {
      const { name, layer } = c.req.valid("param");
      needPort(ctl.state, name);
      if (!dp.dumpLayer) return c.json(unsupported(ctl, "layers"), 501);
      const d = await dp.dumpLayer(name, layer);
      if (!d) throw new ControlError(404, "layer", `${name} has no layer ${layer}`);
      return c.json(d, 200);
    },
  );
  for (
    const [path, what, fn, schema] of [
      ["/v1/underlay/links", "underlay links", () => dp.underlayLinks?.(), LinkRows],
      ["/v1/underlay/neighbours", "neighbour cache", () => dp.neighbours?.(), NeighbourRows],
    ] as const
  ) {
    app.openapi(
      createRoute({
        method: "get",
        path,
        tags: ["underlay"],
        responses: { 200: json(what, schema), ...UNSUPPORTED },
      }),
      async (c) => {
        const rows = await fn();
        return rows ? c.json(rows, 200) : c.json(unsupported(ctl, what), 501);
      },
    );
  }
}
