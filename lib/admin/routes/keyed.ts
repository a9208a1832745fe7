// One shape of resource, registered once: a table of whole entries keyed by one of their fields
// (V2P, M2P, underlay routes, multicast forwarding). GET lists every entry with its source, PUT
// sets one (created or replaced), DELETE removes the one its query names, 404 when absent.

import { createRoute, z } from "@hono/zod-openapi";
import type { Change } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { ERRORS, json } from "./common.ts";

/** How one keyed table appears in the API. */
export interface KeyedTable<T> {
  kind: "v2p" | "m2p" | "route" | "mcastFwd";
  path: string;
  tag: string;
  /** The list answer: its description and schema (entries with their `source`). */
  list: [string, z.ZodType];
  /** One entry, as PUT takes it and answers it. */
  schema: z.ZodType<T>;
  /** Description of the PUT answer. */
  put: string;
  key: (v: T) => string;
  /** The DELETE query, and the key it names. */
  query: z.ZodObject;
  keyOf: (q: Record<string, unknown>) => string;
  /** The DELETE answer: description, schema and body for the removed key. */
  removed: [string, z.ZodType, (key: string) => Record<string, string>];
  /** The 404 when the key is absent: field and message. */
  missing: (key: string) => [string, string];
}

/** Registers GET, PUT and DELETE on `t.path`. */
export function keyedTableRoutes<T>(app: AdminApp, ctl: Control, t: KeyedTable<T>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: t.path,
      tags: [t.tag],
      responses: { 200: json(...t.list) },
    }),
    (c) => c.json([...ctl.state[t.kind]].map(([k, v]) => ctl.sourced(t.kind, k, v)), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path: t.path,
      tags: [t.tag],
      request: {
        body: { content: { "application/json": { schema: t.schema } }, required: true },
      },
      responses: { 200: json(t.put, t.schema), ...ERRORS },
    }),
    async (c) => {
      const v = c.req.valid("json" as never) as T;
      await ctl.mutate(() => ({
        changes: [{ kind: t.kind, key: t.key(v), value: v } as Change],
        result: null,
      }));
      return c.json(v, 200);
    },
  );
  const [desc, schema, answer] = t.removed;
  app.openapi(
    createRoute({
      method: "delete",
      path: t.path,
      tags: [t.tag],
      request: { query: t.query },
      responses: { 200: json(desc, schema), ...ERRORS },
    }),
    async (c) => {
      const key = t.keyOf(c.req.valid("query" as never) as Record<string, unknown>);
      await ctl.mutate((s) => {
        if (!s[t.kind].has(key)) throw new ControlError(404, ...t.missing(key));
        return { changes: [{ kind: t.kind, key, value: null } as Change], result: null };
      });
      return c.json(answer(key), 200);
    },
  );
}
