// POST /v1/trace: runs a frame through a port's pipeline without side effects and returns
// each layer's decision (the answer to "why was this dropped").

import { createRoute, z } from "@hono/zod-openapi";
import { fromHex } from "../../packet/bytes.ts";
import { linkName } from "../../config/fields.ts";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { ERRORS, json, needPort, UNSUPPORTED } from "./common.ts";
import { TraceResult } from "./schemas.ts";

const TraceBody = z.strictObject({
  port: linkName,
  direction: z.enum(["in", "out"]),
  /** The whole Ethernet frame as hex (whitespace and colons allowed). */
  packet: z.string().transform((s) => s.replace(/[\s:]/g, "")).refine(
    (s) => s.length >= 28 && fromHex(s) !== null,
    {
      message: "is not an Ethernet frame in hex (at least 14 bytes, two hex digits per byte)",
    },
  ),
});

/** Registers the trace route. */
export function traceRoutes(app: AdminApp, ctl: Control): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/trace",
      tags: ["trace"],
      request: { body: { content: { "application/json": { schema: TraceBody } }, required: true } },
      responses: {
        200: json("verdict, per-layer decisions, resulting frame", TraceResult),
        ...ERRORS,
        ...UNSUPPORTED,
      },
    }),
    async (c) => {
      const b = c.req.valid("json");
      needPort(ctl.state, b.port);
      if (!ctl.datapath.trace) {
        return c.json({ error: `${ctl.datapath.platform} datapath cannot trace` }, 501);
      }
      return c.json(
        await ctl.datapath.trace({
          port: b.port,
          direction: b.direction,
          frame: fromHex(b.packet)!,
        }),
        200,
      );
    },
  );
}
