// Shared pieces of the route modules: response declarations and path parameters.

import { z } from "@hono/zod-openapi";
import { linkName } from "../../config/fields.ts";
import { ControlError } from "../control.ts";
import type { Change, DesiredState, ResourceTypes } from "../../config/resources.ts";
import { ErrorBody } from "./schemas.ts";

/** A JSON response declaration for the OpenAPI document (`schema`: the body's shape). */
export function json(description: string, schema: z.ZodType) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body of `schema`. */
export function body<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}

/** The error responses every mutating route may give. */
export const ERRORS = {
  400: json("bad input: `field` and `error` say what and why; nothing changed", ErrorBody),
  401: json("missing or wrong bearer token", ErrorBody),
  404: json("no such resource", ErrorBody),
  409: json("conflicts with the current state; nothing changed", ErrorBody),
};

/** A datapath that lacks the capability. */
export const UNSUPPORTED = { 501: json("unsupported by this datapath", ErrorBody) };

/** `{name}` path parameter. */
export const PortParam = z.object({ name: linkName });

/** Throws 404 unless the port exists in `s`. */
export function needPort(s: DesiredState, name: string): void {
  if (!s.port.has(name)) throw new ControlError(404, "name", `no port ${JSON.stringify(name)}`);
}

/** Kinds whose value is a port's list (router entries, firewall rules, multicast groups). */
type PortListKind = "router" | "firewall" | "subscription";

/** The port's `kind` list in `s` (empty when it has none); 404 unless the port exists. */
export function portList<K extends PortListKind>(
  s: DesiredState,
  kind: K,
  name: string,
): ResourceTypes[K] {
  needPort(s, name);
  return (s[kind].get(name) ?? []) as ResourceTypes[K];
}

/** The change that sets a port's `kind` list to `next`, removing it when empty. */
export function setPortList<K extends PortListKind>(
  kind: K,
  name: string,
  next: ResourceTypes[K],
): Change {
  return { kind, key: name, value: next.length ? next : null } as Change;
}
