// The xdeno configuration file (YAML) as a zod schema. Resource shapes (port, firewall rule,
// router entry, mappings) are shared with the admin API so a rule written in the config and
// one sent over HTTP are validated by the same code.

import { z } from "zod";
import { parseIp } from "../packet/bytes.ts";
import {
  cidr,
  ip,
  ipv6,
  linkName,
  listen,
  mac,
  network,
  portNumber,
  prefix,
  prefix6,
  vni,
} from "./fields.ts";
import { FleetConfig } from "./fleet.ts";

/** Default cap of the datapath's adaptive busy polling, µs (README "Latency and busy polling"). */
export const BUSY_POLL_US_DEFAULT = 2000;
/** Above this a spin would outlast the loop's own 10 ms idle wait: no steady gap is that long. */
const BUSY_POLL_US_MAX = 10_000;

/** A firewall rule (OPTE's FirewallRule, flattened). */
export const FirewallRule = z.strictObject({
  /** Stable handle for rm-fw-rule; assigned when absent. */
  id: z.number().int().min(0).optional(),
  direction: z.enum(["in", "out"]),
  priority: z.number().int().min(0).max(65535),
  action: z.enum(["allow", "deny"]),
  /** A protocol name, or an IP protocol number (0-255). */
  protocol: z.union([
    z.enum(["any", "tcp", "udp", "icmp", "icmp6", "arp"]),
    z.number().int().min(0).max(255),
  ]).default("any"),
  /** ICMP/ICMPv6 only: the message type and optionally a code range. */
  icmp: z.strictObject({
    type: z.number().int().min(0).max(255),
    codes: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255)])
      .refine(([a, b]) => a <= b, { message: "first code must not exceed last code" })
      .optional(),
  }).optional(),
  /** Ports and ranges, comma separated (`22,80,8000-8080`); absent = any. */
  ports: z.string().regex(/^\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$/, {
    message: 'is not a list of ports and ranges (e.g. "22" or "22,80,8000-8080")',
    abort: true,
  })
    .refine((s) => s.split(",").every((r) => r.split("-").every((p) => Number(p) <= 65535)), {
      message: "port above 65535",
    })
    .refine((s) =>
      s.split(",").every((r) => {
        const [a, b = a] = r.split("-").map(Number);
        return a <= b;
      }), { message: "a range's first port exceeds its last" })
    .optional(),
  /** Remote host: "any", an address prefix, or `vni:N`. */
  host: z.string().check((c) => {
    const s = c.value;
    if (s === "any" || /^vni:\d+$/.test(s) || prefix.safeParse(s).success) return;
    c.issues.push({
      code: "custom",
      input: s,
      message: `${JSON.stringify(s)} is not a host (expected "any", a prefix such as ` +
        `10.0.0.0/24 or fd00::/64, or vni:N)`,
    });
  }).default("any"),
}).superRefine((r, ctx) => {
  if (r.icmp && r.protocol !== "icmp" && r.protocol !== "icmp6") {
    ctx.addIssue({ code: "custom", path: ["icmp"], message: "applies to protocol icmp or icmp6" });
  }
  if (
    r.ports !== undefined && r.protocol !== "tcp" && r.protocol !== "udp" && r.protocol !== "any"
  ) {
    ctx.addIssue({ code: "custom", path: ["ports"], message: "ports apply to tcp, udp or any" });
  }
});
/** A firewall rule as validated. */
export type FirewallRule = z.infer<typeof FirewallRule>;

/** An internet gateway id (Omicron sends UUIDs). */
export const igwId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, {
  message: "is not an internet gateway id (expected a UUID)",
});

/** Where a router entry sends matching traffic (upstream's RouterTarget). */
export const RouterTarget = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("drop") }),
  /** `id` names the gateway; external IPs are chosen among those mapped to it. */
  z.strictObject({ kind: z.literal("internet-gateway"), id: igwId.optional() }),
  /** Next hop: a VPC address (e.g. an appliance port), looked up in V2P. */
  z.strictObject({ kind: z.literal("ip"), ip }),
  z.strictObject({ kind: z.literal("vpc-subnet"), cidr: network }),
]);
/** A router target as validated. */
export type RouterTarget = z.infer<typeof RouterTarget>;

const familyOf = (s: string) => (s.includes(":") ? 6 : 4);

/** A VPC router entry (upstream's AddRouterEntryReq without the port). */
export const RouterEntry = z.strictObject({
  destination: network,
  target: RouterTarget,
  /** custom beats system at equal prefix length. */
  class: z.enum(["system", "custom"]),
}).superRefine((r, ctx) => {
  const t = r.target;
  const other = t.kind === "ip" ? t.ip : t.kind === "vpc-subnet" ? t.cidr : null;
  if (other !== null && familyOf(other) !== familyOf(r.destination)) {
    ctx.addIssue({
      code: "custom",
      path: ["target", t.kind === "ip" ? "ip" : "cidr"],
      message: `${other} is not of the destination's family (IPv${familyOf(r.destination)})`,
    });
  }
});
/** A router entry as validated. */
export type RouterEntry = z.infer<typeof RouterEntry>;

/** Attached subnets and transit IPs of a port (upstream's attach-subnet / allow-cidr). */
export const PortSubnets = z.strictObject({
  /** Subnets the NIC owns; `external` ones skip NAT and may only reach internet gateways. */
  attached: z.array(z.strictObject({ cidr: network, external: z.boolean().default(false) }))
    .default([]),
  /** Exceptions to address filtering per direction. */
  transit: z.array(
    z.strictObject({ cidr: network, allowIn: z.boolean(), allowOut: z.boolean() }),
  ).default([]),
});
/** Attached subnets and transit IPs as validated. */
export type PortSubnets = z.infer<typeof PortSubnets>;

/** External addresses of a port: SNAT with a port range, ephemeral and floating IPs. */
export const ExternalIps = z.strictObject({
  snat: z.strictObject({
    ip,
    ports: z.tuple([portNumber, portNumber]).refine(([a, b]) => a <= b, {
      message: "first port must not exceed last port",
    }),
  }).optional(),
  ephemeral: z.array(ip).default([]),
  floating: z.array(ip).default([]),
  /** External IP → the internet gateways that may use it (upstream's inet_gw_map). */
  inetGwMap: z.record(z.string(), z.array(igwId)).superRefine((m, ctx) => {
    for (const k of Object.keys(m)) {
      if (!parseIp(k)) {
        ctx.addIssue({
          code: "custom",
          path: [k],
          message: `${JSON.stringify(k)} is not an IP address (keys are external IPs)`,
        });
      }
    }
  }).optional(),
});
/** External IPs as validated. */
export type ExternalIps = z.infer<typeof ExternalIps>;

const dnsName = z.string().regex(
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/,
  { message: 'is not a DNS name (labels of letters, digits and "-", e.g. "vm1.example.com")' },
);

/** What the gateway's DHCP/DHCPv6 server tells the guest (upstream's DhcpCfg). */
export const Dhcp = z.strictObject({
  /** The guest's host name (DHCP option 12, DHCPv6 FQDN option 39 with `hostDomain`). */
  hostname: dnsName.optional(),
  /** The guest's domain (DHCP option 15; completes the DHCPv6 FQDN). */
  hostDomain: dnsName.optional(),
  /** Domain search list (DHCP option 119, DHCPv6 option 24), in this order. */
  domainSearchList: z.array(dnsName).default([]),
  dns4Servers: z.array(ip).default([]),
  dns6Servers: z.array(ipv6).default([]),
});

/** The overlay (VPC) identity of an instance, or of a system zone talking off-rack. */
export const Overlay = z.strictObject({
  vni,
  ipv4: cidr.optional(),
  ipv6: cidr.optional(),
  /** The gateway MAC this port sees; the switch's default when absent. */
  gatewayMac: mac.optional(),
  /** DHCP options for this port's guest; none (no names, no DNS servers) when absent. */
  dhcp: Dhcp.optional(),
});

/** One client of the switch. */
export const Port = z.strictObject({
  name: linkName,
  kind: z.enum(["host", "system", "instance"]),
  /** Zone (illumos) or network namespace (Linux) the port's device lives in. */
  zone: z.string().min(1).optional(),
  mac,
  /** Interface addresses (underlay ones for host/system ports). */
  addresses: z.array(cidr).default([]),
  mtu: z.number().int().min(1280).max(9216).default(1500),
  overlay: Overlay.optional(),
  /** The whole rule set; absent on an overlay port = the VPC's default rule (see README). */
  firewall: z.array(FirewallRule).optional(),
  /** The whole router table; absent on an overlay port = its system routes (see README). */
  routes: z.array(RouterEntry).optional(),
  subnets: PortSubnets.optional(),
  externalIps: ExternalIps.optional(),
  /** Multicast groups (overlay addresses) the port subscribes to. */
  multicast: z.array(ip).default([]),
}).superRefine((p, ctx) => {
  if (p.kind === "instance" && !p.overlay) {
    ctx.addIssue({
      code: "custom",
      path: ["overlay"],
      message: "an instance port needs an overlay identity",
    });
  }
  if (p.kind === "host" && p.zone !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["zone"],
      message: "the host port lives in the global zone",
    });
  }
});
/** A port as validated. */
export type Port = z.infer<typeof Port>;

/** Virtual → physical: where an overlay address lives on the underlay. */
export const V2p = z.strictObject({ vni, ip, mac, underlay: ipv6 });
/** A V2P mapping. */
export type V2p = z.infer<typeof V2p>;

/** Virtual → boundary: which boundary-services endpoints serve a prefix. */
export const V2b = z.strictObject({ vni, prefix, endpoints: z.array(ipv6).min(1) });
/** A V2B mapping. */
export type V2b = z.infer<typeof V2b>;

/** Multicast group → underlay multicast address. */
export const M2p = z.strictObject({ group: ip, underlay: ipv6 });
/** An M2P mapping. */
export type M2p = z.infer<typeof M2p>;

/** Where copies of an underlay multicast group go, and how far they replicate. */
export const McastForwarding = z.strictObject({
  underlay: ipv6,
  nextHops: z.array(
    z.strictObject({ via: ipv6, replication: z.enum(["external", "underlay", "both"]) }),
  ).min(1),
});
/** A multicast forwarding entry. */
export type McastForwarding = z.infer<typeof McastForwarding>;

/** An underlay route with its ECMP next hops. */
export const UnderlayRoute = z.strictObject({
  prefix: prefix6,
  nextHops: z.array(z.strictObject({ link: linkName, via: ipv6 })).min(1),
});
/** An underlay route. */
export type UnderlayRoute = z.infer<typeof UnderlayRoute>;

/** The whole configuration file. */
export const Config = z.strictObject({
  platform: z.enum(["linux", "illumos", "memory"]).default("linux"),
  stateDir: z.string().min(1).default("/var/lib/xdeno"),
  admin: z.strictObject({
    listen: listen.default("127.0.0.1:7070"),
    tokenFile: z.string().min(1).optional(),
    maxBodyBytes: z.number().int().min(1024).max(16 << 20).default(1 << 20),
    /** Per-client token bucket on captures, traces and flow/layer dumps. */
    rateLimit: z.strictObject({
      perSecond: z.number().positive().max(10000).default(5),
      burst: z.number().int().min(1).max(10000).default(20),
    }).prefault({}),
  }).prefault({}),
  log: z.strictObject({
    format: z.enum(["text", "json"]).default("text"),
    level: z.enum(["debug", "info", "warning", "error"]).default("info"),
  }).prefault({}),
  sled: z.strictObject({
    underlayAddress: ipv6,
    underlayPrefix: prefix6,
    hostInterface: linkName.default("xde0"),
  }),
  underlay: z.strictObject({
    links: z.array(
      z.strictObject({ name: linkName, device: linkName.optional(), linkLocal: ipv6.optional() }),
    )
      .default([]),
    routes: z.array(UnderlayRoute).default([]),
  }).prefault({}),
  boundaryServices: z.array(z.strictObject({ vni: vni.default(99), endpoint: ipv6 })).default([]),
  /**
   * Packet loop: `workers` > 1 runs one per TAP queue (lib/runtime README "Several workers");
   * `busyPollUs` caps the adaptive busy polling after traffic (README "Latency and busy polling").
   */
  datapath: z.strictObject({
    workers: z.number().int().min(1).max(16).default(1),
    busyPollUs: z.number({ error: "busyPollUs must be a number of microseconds (0 turns it off)" })
      .int("busyPollUs must be a whole number of microseconds")
      .min(0, "busyPollUs must be 0 (off) or more microseconds")
      .max(
        BUSY_POLL_US_MAX,
        `busyPollUs above ${BUSY_POLL_US_MAX} µs: keep it near the gap between frames to cover (e.g. 2000)`,
      )
      .default(BUSY_POLL_US_DEFAULT),
  }).prefault({}),
  ports: z.array(Port).default([]),
  mappings: z.strictObject({
    v2p: z.array(V2p).default([]),
    v2b: z.array(V2b).default([]),
    m2p: z.array(M2p).default([]),
    mcastForwarding: z.array(McastForwarding).default([]),
  }).prefault({}),
  /** Fleet mode (lib/fleet); absent: this sled knows only its own config and API. */
  fleet: FleetConfig.optional(),
}).superRefine((c, ctx) => {
  unique(ctx, c.ports.map((p) => p.name), (i) => ["ports", i, "name"], "port name");
  unique(ctx, c.ports.map((p) => p.mac.toLowerCase()), (i) => ["ports", i, "mac"], "MAC");
  unique(
    ctx,
    c.underlay.links.map((l) => l.name),
    (i) => ["underlay", "links", i, "name"],
    "link name",
  );
  const links = new Set(c.underlay.links.map((l) => l.name));
  c.underlay.routes.forEach((r, i) =>
    r.nextHops.forEach((h, j) => {
      if (!links.has(h.link)) {
        ctx.addIssue({
          code: "custom",
          path: ["underlay", "routes", i, "nextHops", j, "link"],
          message: `${JSON.stringify(h.link)} is not an underlay link (declared: ${
            [...links].join(", ") || "none"
          })`,
        });
      }
    })
  );
  if (c.ports.filter((p) => p.kind === "host").length > 1) {
    ctx.addIssue({ code: "custom", path: ["ports"], message: "at most one host port" });
  }
});
/** The validated configuration. */
export type Config = z.infer<typeof Config>;

function unique(
  ctx: z.RefinementCtx,
  values: string[],
  path: (i: number) => (string | number)[],
  what: string,
): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else {ctx.addIssue({
        code: "custom",
        path: path(i),
        message: `duplicate ${what} ${JSON.stringify(v)} (first at ${
          path(first).map((s, j) => typeof s === "number" ? `[${s}]` : j ? `.${s}` : s).join("")
        })`,
      });}
  });
}
