// The `fleet:` section of the config: where the rack's etcd cluster is and who this sled is.
// Without it the sled knows only its own config and API (nothing of lib/fleet runs).

import { z } from "zod";

/** An etcd client URL: http(s)://host:port. */
const endpoint = z.string().regex(/^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
  message: 'is not an etcd client URL (expected e.g. "http://10.0.0.1:2379")',
});

/** Fleet mode: V2P/V2B/M2P/multicast state shared through etcd. */
export const FleetConfig = z.strictObject({
  etcd: z.strictObject({
    endpoints: z.array(endpoint).min(1),
    /** Every key xdeno reads or writes lives under this prefix. */
    prefix: z.string().regex(/^\/[A-Za-z0-9_./-]*[^/]$/, {
      message: 'is not a key prefix (expected e.g. "/xdeno", no trailing slash)',
    }).default("/xdeno"),
    dialTimeoutMs: z.number().int().min(100).max(60000).default(3000),
    /** PEM files for TLS to etcd (client certificate optional). */
    tls: z.strictObject({
      ca: z.string().min(1),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
    }).refine((t) => (t.cert === undefined) === (t.key === undefined), {
      message: "cert and key go together",
      path: ["key"],
    }).optional(),
  }),
  /** This sled's name in the fleet (unique per sled). */
  sledId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
    message: "is not a sled id (1-64 of A-Z a-z 0-9 _ . -)",
  }),
  /** Lifetime of this sled's published entries after it stops refreshing them. */
  leaseTtlSeconds: z.number().int().min(2).max(3600).default(10),
});
/** The fleet section as validated. */
export type FleetConfig = z.infer<typeof FleetConfig>;
