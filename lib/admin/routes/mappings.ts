// /v1/v2p, /v1/m2p: set (PUT one mapping), clear (DELETE by key in the query), dump. V2B has
// per-endpoint semantics of its own (routes/v2b.ts).

import { createRoute, z } from "@hono/zod-openapi";
import { M2p, V2p } from "../../config/schema.ts";
import { ip, vni } from "../../config/fields.ts";
import { type Change, v2pKey } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json } from "./common.ts";
import { Cleared, SourcedM2p, SourcedV2p } from "./schemas.ts";

interface Mapping<T> {
  kind: "v2p" | "m2p";
  schema: z.ZodType<T>;
  /** The schema of a listed entry (with its `source`). */
  listed: z.ZodType;
  key: (v: T) => string;
  query: z.ZodObject;
  keyOf: (q: Record<string, unknown>) => string;
}

const MAPPINGS = [
  {
    kind: "v2p",
    schema: V2p,
    listed: SourcedV2p,
    key: v2pKey,
    query: z.object({ vni: z.coerce.number().pipe(vni), ip }),
    keyOf: (q) => v2pKey(q as { vni: number; ip: string }),
  } satisfies Mapping<V2p>,
  {
    kind: "m2p",
    schema: M2p,
    listed: SourcedM2p,
    key: (m: M2p) => m.group,
    query: z.object({ group: ip }),
    keyOf: (q) => q.group as string,
  } satisfies Mapping<M2p>,
];

/** Registers the mapping routes. */
export function mappingRoutes(app: AdminApp, ctl: Control): void {
  for (const m of MAPPINGS as Mapping<unknown>[]) {
    const path = `/v1/${m.kind}`;
    app.openapi(
      createRoute({
        method: "get",
        path,
        tags: ["mappings"],
        responses: {
          200: json(`every ${m.kind} mapping`, z.array(m.listed)),
        },
      }),
      (c) => c.json([...ctl.state[m.kind]].map(([k, v]) => ctl.sourced(m.kind, k, v)), 200),
    );
    app.openapi(
      createRoute({
        method: "put",
        path,
        tags: ["mappings"],
        request: {
          body: { content: { "application/json": { schema: m.schema } }, required: true },
        },
        responses: { 200: json("set (created or replaced)", m.schema), ...ERRORS },
      }),
      async (c) => {
        const v = c.req.valid("json" as never);
        await ctl.mutate(() => ({
          changes: [{ kind: m.kind, key: m.key(v), value: v } as Change],
          result: null,
        }));
        return c.json(v, 200);
      },
    );
    app.openapi(
      createRoute({
        method: "delete",
        path,
        tags: ["mappings"],
        request: { query: m.query },
        responses: { 200: json("cleared", Cleared), ...ERRORS },
      }),
      async (c) => {
        const key = m.keyOf(c.req.valid("query" as never) as Record<string, unknown>);
        await ctl.mutate((s) => {
          if (!s[m.kind].has(key)) throw new ControlError(404, m.kind, `no mapping ${key}`);
          return { changes: [{ kind: m.kind, key, value: null } as Change], result: null };
        });
        return c.json({ cleared: key }, 200);
      },
    );
  }
}
