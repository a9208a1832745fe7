// The audit trail: one log line per API request that can change something (any method but GET
// and HEAD), after it is answered: who (client address, which token), what (method, path),
// result (status). Tokens are named by a fingerprint, never by their text.

import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getLogger } from "@logtape/logtape";
import { clientOf } from "./ratelimit.ts";

const log = getLogger(["xdeno", "audit"]);

/** A short, stable name for a token: the first 12 hex digits of its SHA-256. */
export function tokenId(token: string): string {
  return `sha256:${createHash("sha256").update(token).digest("hex").slice(0, 12)}`;
}

/** Middleware: logs every mutating request with its client, token, and status. */
export function audit(token: string | null): MiddlewareHandler {
  const id = token === null ? "none" : tokenId(token);
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return await next();
    await next();
    const status = c.res.status;
    // A request refused at the door did not present our token, whatever it sent.
    const who = status === 401 ? "unauthenticated" : id;
    log.info("audit: {client} token {token}: {method} {path} → {status}", {
      client: clientOf(c),
      token: who,
      method: c.req.method,
      path: c.req.path,
      status,
    });
  };
}
