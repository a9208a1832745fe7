// CLI verbs that follow opteadm's names, flags and meaning: router entries (typed targets in
// opteadm's text form `ig`, `ig=<id>`, `ip4=…`, `sub6=…`, `drop`), attached subnets and transit
// IPs, list-ports with address columns, and the multicast/M2P clear and dump verbs.

import { ApiError } from "./client.ts";
import { enc, type Opts, type Row, tableOf, type Verb } from "./cli_common.ts";
import { parseRouterTarget, type RouterTarget, routerTargetText } from "../vpc/router.ts";

const PORT = { p: "port" };

/** The `-p PORT` every per-port opteadm verb takes. */
function portOf(o: Opts): string {
  if (typeof o.port !== "string") throw new ApiError(2, "-p PORT is required");
  return o.port;
}

/** A router entry from opteadm's `DEST TARGET CLASS` positionals. */
function routeOf([destination, target, cls]: string[]): Row {
  const t = parseRouterTarget(target);
  if (!t) {
    throw new ApiError(
      2,
      `target: "${target}" is not a router target (expected drop, ig, ig=<id>, ip4=<addr>, ip6=<addr>, sub4=<cidr> or sub6=<cidr>)`,
    );
  }
  const c = cls.toLowerCase();
  if (c !== "system" && c !== "custom") {
    throw new ApiError(2, `class: "${cls}" is not a router class (expected system or custom)`);
  }
  return { destination, target: t, class: c };
}

const ext = (p: Row) => {
  const x = p.externalIps as Row | null;
  if (!x) return [];
  const snat = x.snat as Row | undefined;
  return [
    ...(x.ephemeral as string[]),
    ...(x.floating as string[]),
    ...(snat ? [`${snat.ip}:${(snat.ports as number[]).join("-")}`] : []),
  ];
};

/** opteadm-named verbs. */
export const OPTE_VERBS: Record<string, Verb> = {
  "list-ports": {
    usage: "list-ports",
    args: 0,
    async run(c) {
      const ports = (await c.call("GET", "/v1/ports")) as Row[];
      const ov = (p: Row) => (p.overlay as Row | undefined) ?? {};
      return {
        data: ports,
        table: tableOf(
          ["NAME", "KIND", "MAC", "ZONE", "IPv4", "IPv6", "EXTERNAL IP", "VNI", "STATE"],
          ports,
          [
            (p) => p.name,
            (p) => p.kind,
            (p) => p.mac,
            (p) => p.zone,
            (p) => ov(p).ipv4 ?? (p.addresses as string[]).filter((a) => !a.includes(":")),
            (p) => ov(p).ipv6 ?? (p.addresses as string[]).filter((a) => a.includes(":")),
            ext,
            (p) => ov(p).vni,
            (p) => (p.status as Row | null)?.state,
          ],
        ),
      };
    },
  },
  "list-router-entries": {
    usage: "list-router-entries -p PORT",
    options: ["port"],
    short: PORT,
    args: 0,
    async run(c, _, o) {
      const r = (await c.call("GET", `/v1/ports/${enc(portOf(o))}/routes`)) as Row[];
      return {
        data: r,
        table: tableOf(["DESTINATION", "TARGET", "CLASS"], r, [
          (e) => e.destination,
          (e) => routerTargetText(e.target as RouterTarget),
          (e) => e.class,
        ]),
      };
    },
  },
  "add-router-entry": {
    usage:
      "add-router-entry -p PORT DEST TARGET CLASS   (TARGET: drop|ig|ig=ID|ip4=A|ip6=A|sub4=P|sub6=P)",
    options: ["port"],
    short: PORT,
    args: 3,
    async run(c, a, o) {
      const e = routeOf(a);
      return {
        data: await c.call("POST", `/v1/ports/${enc(portOf(o))}/routes`, e),
        table: () => `added ${e.destination} → ${a[1]} (${e.class})`,
      };
    },
  },
  "del-router-entry": {
    usage: "del-router-entry -p PORT DEST TARGET CLASS",
    options: ["port"],
    short: PORT,
    args: 3,
    async run(c, a, o) {
      const e = routeOf(a);
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(portOf(o))}/routes`, e),
        table: () => `removed ${e.destination} → ${a[1]} (${e.class})`,
      };
    },
  },
  "allow-cidr": {
    usage: "allow-cidr -p PORT PREFIX [--dir in|out]   (no --dir: both)",
    options: ["port", "dir"],
    short: PORT,
    args: 1,
    async run(c, [cidr], o) {
      const b: Row = { cidr };
      if (o.dir !== undefined) b.dir = o.dir;
      return {
        data: await c.call("POST", `/v1/ports/${enc(portOf(o))}/subnets/transit`, b),
        table: () => `allowed ${cidr}${o.dir ? ` (${o.dir})` : ""}`,
      };
    },
  },
  "remove-cidr": {
    usage: "remove-cidr -p PORT PREFIX [--dir in|out]   (no --dir: both)",
    options: ["port", "dir"],
    short: PORT,
    args: 1,
    async run(c, [cidr], o) {
      const q = new URLSearchParams({ cidr });
      if (typeof o.dir === "string") q.set("dir", o.dir);
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(portOf(o))}/subnets/transit?${q}`),
        table: () => `removed ${cidr}${o.dir ? ` (${o.dir})` : ""}`,
      };
    },
  },
  "attach-subnet": {
    usage: "attach-subnet -p PORT PREFIX [-e|--external]",
    options: ["port"],
    short: { ...PORT, e: "external" },
    flags: ["external"],
    args: 1,
    async run(c, [cidr], o) {
      return {
        data: await c.call("POST", `/v1/ports/${enc(portOf(o))}/subnets/attached`, {
          cidr,
          external: o.external === true,
        }),
        table: () => `attached ${cidr}${o.external ? " (external)" : ""}`,
      };
    },
  },
  "detach-subnet": {
    usage: "detach-subnet -p PORT PREFIX",
    options: ["port"],
    short: PORT,
    args: 1,
    async run(c, [cidr], o) {
      return {
        data: await c.call(
          "DELETE",
          `/v1/ports/${enc(portOf(o))}/subnets/attached?cidr=${enc(cidr)}`,
        ),
        table: () => `detached ${cidr}`,
      };
    },
  },
  "set-v2b": {
    usage: "set-v2b PREFIX TUNNEL_ENDPOINT... [--vni N]   (adds endpoints; VNI default 99)",
    options: ["vni"],
    args: 2,
    async run(c, [prefix, ...endpoints], o) {
      const vni = Number(o.vni ?? 99);
      const r = (await c.call("PUT", "/v1/v2b", { vni, prefix, endpoints })) as Row;
      return { data: r, table: () => `v2b ${vni}/${prefix}: ${list(r.endpoints)}` };
    },
  },
  "clear-v2b": {
    usage: "clear-v2b PREFIX TUNNEL_ENDPOINT... [--vni N]   (removes those endpoints)",
    options: ["vni"],
    args: 2,
    async run(c, [prefix, ...endpoints], o) {
      const vni = Number(o.vni ?? 99);
      const q = new URLSearchParams({ vni: String(vni), prefix });
      for (const e of endpoints) q.append("endpoint", e);
      const r = (await c.call("DELETE", `/v1/v2b?${q}`)) as Row | null;
      return {
        data: r,
        table: () =>
          r ? `v2b ${vni}/${prefix}: ${list(r.endpoints)}` : `cleared v2b ${vni}/${prefix}`,
      };
    },
  },
  "clear-m2p": {
    usage: "clear-m2p GROUP UNDERLAY",
    args: 2,
    async run(c, [group, underlay]) {
      const cur = (await c.call("GET", "/v1/m2p")) as Row[];
      const hit = cur.find((m) => m.group === group);
      if (hit && hit.underlay !== underlay) {
        throw new ApiError(1, `underlay: ${group} maps to ${hit.underlay}, not ${underlay}`);
      }
      return {
        data: await c.call("DELETE", `/v1/m2p?group=${enc(group)}`),
        table: () => `cleared m2p ${group}`,
      };
    },
  },
  "clear-mcast-fwd": {
    usage: "clear-mcast-fwd UNDERLAY",
    args: 1,
    async run(c, [underlay]) {
      return {
        data: await c.call("DELETE", `/v1/multicast/forwarding?underlay=${enc(underlay)}`),
        table: () => `cleared forwarding for ${underlay}`,
      };
    },
  },
  "dump-mcast-subs": {
    usage: "dump-mcast-subs",
    args: 0,
    async run(c) {
      const r = (await c.call("GET", "/v1/multicast/subscriptions")) as Row[];
      return { data: r, table: tableOf(["GROUP", "PORTS"], r, [(s) => s.group, (s) => s.ports]) };
    },
  },
  "mcast-unsubscribe-all": {
    usage: "mcast-unsubscribe-all GROUP",
    args: 1,
    async run(c, [group]) {
      const r = (await c.call("DELETE", `/v1/multicast/subscriptions?group=${enc(group)}`)) as Row;
      return { data: r, table: () => `unsubscribed ${list(r.ports)} from ${group}` };
    },
  },
};

const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(",") : "none");
