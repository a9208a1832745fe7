// The OpenAPI document describes every response body: walking /v1/openapi.json finds no route
// whose response schema is missing, empty or untyped (`{}`, the shape z.any() produces),
// however deep it sits.

import assert from "node:assert/strict";
import { z } from "@hono/zod-openapi";
import { PortSubnets } from "../../lib/config/schema.ts";
import {
  ErrorBody,
  PortView,
  SourcedFirewallRules,
  SourcedRouterEntries,
  SourcedV2p,
} from "../../lib/admin/routes/schemas.ts";
import { startHarness } from "./helpers.ts";

type Schema = Record<string, unknown>;
const TYPED = ["type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"];

/** Where below `s` a schema is empty or untyped; [] when every part is typed. */
function untyped(s: unknown, at: string, seen = new Set<unknown>()): string[] {
  if (typeof s !== "object" || s === null) return [`${at} is not a schema`];
  if (seen.has(s)) return [];
  seen.add(s);
  const o = s as Schema;
  const bad = TYPED.some((k) => k in o) ? [] : [`${at} has no type`];
  const sub = (v: unknown, where: string) => bad.push(...untyped(v, where, seen));
  for (const k of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    if (Array.isArray(o[k])) (o[k] as unknown[]).forEach((x, i) => sub(x, `${at}.${k}[${i}]`));
  }
  if (o.items !== undefined) sub(o.items, `${at}.items`);
  for (const [k, v] of Object.entries((o.properties as Schema | undefined) ?? {})) {
    sub(v, `${at}.${k}`);
  }
  // An open object is allowed only beside typed properties (a predicate's `kind`).
  const ap = o.additionalProperties;
  if (typeof ap === "object" && ap !== null) sub(ap, `${at}.*`);
  if (ap === true && !o.properties) bad.push(`${at} is an untyped open object`);
  return bad;
}

Deno.test("openapi: every route's responses have typed schemas", async () => {
  const h = await startHarness();
  try {
    const r = await h.call("GET", "/v1/openapi.json");
    assert.equal(r.status, 200);
    const problems: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(r.body.paths as Record<string, Schema>)) {
      for (const [method, op] of Object.entries(ops as Record<string, Schema>)) {
        const responses = op.responses as Record<string, Schema>;
        assert.ok(responses["200"] ?? responses["201"], `${method} ${path}: no success response`);
        for (const [code, resp] of Object.entries(responses)) {
          const content = resp.content as Record<string, { schema?: unknown }> | undefined;
          if (!content) {
            problems.push(`${method} ${path} ${code}: no body schema`);
            continue;
          }
          for (const [type, c] of Object.entries(content)) {
            checked++;
            problems.push(...untyped(c.schema, `${method} ${path} ${code} ${type}`));
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 100, `only ${checked} response bodies described`);
  } finally {
    await h.close();
  }
});

Deno.test("openapi: the walk catches an untyped schema (z.any()) and an open object", () => {
  assert.deepEqual(untyped({}, "x"), ["x has no type"]);
  assert.deepEqual(
    untyped({ type: "object", properties: { a: { type: "array", items: {} } } }, "x"),
    ["x.a.items has no type"],
  );
  assert.deepEqual(untyped({ type: "object", additionalProperties: true }, "x"), [
    "x is an untyped open object",
  ]);
  assert.deepEqual(untyped({ anyOf: [{ type: "string" }, { type: "null" }] }, "x"), []);
});

Deno.test("openapi: what the routes answer parses with the schemas the document declares", async () => {
  const h = await startHarness();
  try {
    const cases: [string, z.ZodType][] = [
      ["/v1/ports", z.array(PortView)],
      ["/v1/ports/opte0", PortView],
      ["/v1/ports/opte0/firewall", SourcedFirewallRules],
      ["/v1/ports/opte0/routes", SourcedRouterEntries],
      ["/v1/ports/opte0/subnets", PortSubnets],
      ["/v1/v2p", z.array(SourcedV2p)],
      ["/v1/ports/nope", ErrorBody],
    ];
    for (const [path, schema] of cases) {
      const r = await h.call("GET", path);
      const p = schema.safeParse(r.body);
      assert.ok(p.success, `${path}: ${JSON.stringify(p.error?.issues)}`);
    }
  } finally {
    await h.close();
  }
});
