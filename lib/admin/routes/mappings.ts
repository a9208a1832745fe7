// /v1/v2p, /v1/m2p: set (PUT one mapping), clear (DELETE by key in the query), dump. V2B has
// per-endpoint semantics of its own (routes/v2b.ts).

import { z } from "@hono/zod-openapi";
import { M2p, V2p } from "../../config/schema.ts";
import { ip, vni } from "../../config/fields.ts";
import { v2pKey } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { type KeyedTable, keyedTableRoutes } from "./keyed.ts";
import { Cleared, SourcedM2p, SourcedV2p } from "./schemas.ts";

/** What the two mapping tables share besides kind, schemas and key. */
function mapping<T>(
  kind: "v2p" | "m2p",
  schema: z.ZodType<T>,
  listed: z.ZodType,
  key: (v: T) => string,
  query: z.ZodObject,
  keyOf: (q: Record<string, unknown>) => string,
): KeyedTable<T> {
  return {
    kind,
    path: `/v1/${kind}`,
    tag: "mappings",
    list: [`every ${kind} mapping`, z.array(listed)],
    schema,
    put: "set (created or replaced)",
    key,
    query,
    keyOf,
    removed: ["cleared", Cleared, (k) => ({ cleared: k })],
    missing: (k) => [kind, `no mapping ${k}`],
  };
}

/** Registers the mapping routes. */
export function mappingRoutes(app: AdminApp, ctl: Control): void {
  keyedTableRoutes(
    app,
    ctl,
    mapping(
      "v2p",
      V2p,
      SourcedV2p,
      v2pKey,
      z.object({ vni: z.coerce.number().pipe(vni), ip }),
      (q) => v2pKey(q as { vni: number; ip: string }),
    ),
  );
  keyedTableRoutes(
    app,
    ctl,
    mapping(
      "m2p",
      M2p,
      SourcedM2p,
      (m) => m.group,
      z.object({ group: ip }),
      (q) => q.group as string,
    ),
  );
}
