// Per-client token buckets for the endpoints that cost the datapath real work (captures,
// traces, flow and layer dumps): a client that asks too often gets 429 with Retry-After
// instead of starving the packet loop or the other clients.

import type { Context, MiddlewareHandler } from "hono";

/** Bucket size and refill rate. */
export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket capacity (requests allowed in a burst). */
  burst: number;
}

/** How many clients are remembered; full buckets are forgotten first when over. */
const MAX_CLIENTS = 4096;

/** A set of token buckets keyed by client. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; t: number }>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `client`: 0 when allowed, else the seconds until one is available. */
  take(client: string): number {
    const t = this.now();
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= MAX_CLIENTS) this.sweep(t);
      this.buckets.set(client, b = { tokens: this.limit.burst, t });
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + (t - b.t) * this.limit.perSecond / 1000);
      b.t = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.limit.perSecond;
  }

  /** Number of clients with a bucket. */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + (t - b.t) * this.limit.perSecond / 1000 >= this.limit.burst) {
        this.buckets.delete(k);
      }
    }
    // Everyone is busy: forget the oldest rather than grow without bound.
    while (this.buckets.size >= MAX_CLIENTS) {
      this.buckets.delete(this.buckets.keys().next().value!);
    }
  }
}

/** Routes that are rate limited: [method, path pattern]. */
const EXPENSIVE: [string, RegExp][] = [
  ["GET", /^\/v1\/(ports|links)\/[^/]+\/capture$/],
  ["POST", /^\/v1\/trace$/],
  ["GET", /^\/v1\/ports\/[^/]+\/flows\/[^/]+$/],
  ["GET", /^\/v1\/ports\/[^/]+\/layers(\/[^/]+)?$/],
];

/** True when a request hits an expensive endpoint. */
export function isExpensive(method: string, path: string): boolean {
  return EXPENSIVE.some(([m, re]) => m === method && re.test(path));
}

/** The client's address as Deno.serve reports it (Hono passes the serve info as `env`). */
export function clientOf(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

/** Middleware: 429 + Retry-After (whole seconds, ≥ 1) when the client's bucket is empty. */
export function rateLimit(buckets: TokenBuckets): MiddlewareHandler {
  return async (c, next) => {
    if (isExpensive(c.req.method, c.req.path)) {
      const wait = buckets.take(clientOf(c));
      if (wait > 0) {
        const s = Math.max(1, Math.ceil(wait));
        c.header("Retry-After", String(s));
        return c.json({ error: `rate limited: retry in ${s} s` }, 429);
      }
    }
    await next();
  };
}
