// `xdeno show`: the whole switch on one screen, like `ovs-vsctl show` — ports with addresses,
// overlay identity, external IPs and state; underlay links with their neighbours; routes.

import { ApiError } from "../client.ts";
import type { AdminClient } from "../client.ts";
import { enc, list, type Row, type Verb } from "./common.ts";
import { renderFleetStatus } from "./fleet.ts";

/** GETs `path`; null when this datapath does not offer it (501). */
async function optional(c: AdminClient, path: string): Promise<Row[] | null> {
  try {
    return (await c.call("GET", path)) as Row[];
  } catch (e) {
    if (e instanceof ApiError && e.status === 501) return null;
    throw e;
  }
}

/** External IPs as one line: "snat IP:FIRST-LAST, ephemeral …, floating …". */
function externalText(x: Row | null): string | null {
  if (!x) return null;
  const parts: string[] = [];
  const snat = x.snat as { ip: string; ports: [number, number] } | undefined;
  if (snat) parts.push(`snat ${snat.ip}:${snat.ports[0]}-${snat.ports[1]}`);
  for (const k of ["ephemeral", "floating"]) {
    const v = x[k] as string[] | undefined;
    if (v?.length) parts.push(`${k} ${v.join(",")}`);
  }
  return parts.length ? parts.join(", ") : null;
}

/** Everything `show` prints, gathered from the API. */
export async function showText(c: AdminClient): Promise<{ data: Row; text: string }> {
  const health = (await c.call("GET", "/healthz")) as Row;
  const ports = (await c.call("GET", "/v1/ports")) as Row[];
  const external: Record<string, Row | null> = {};
  for (const p of ports) {
    if (p.overlay) {
      external[p.name as string] = (await c.call(
        "GET",
        `/v1/ports/${enc(p.name as string)}/external-ips`,
      )) as Row | null;
    }
  }
  const links = await optional(c, "/v1/underlay/links");
  const neighbours = await optional(c, "/v1/underlay/neighbours");
  const routes = (await c.call("GET", "/v1/underlay/routes")) as Row[];
  const fleet = (await c.call("GET", "/v1/fleet")) as Row;
  const out = [`switch (${health.platform} datapath, generation ${health.generation})`];
  for (const p of ports) {
    const st = p.status as Row | null;
    const link = st?.link as Row | undefined;
    out.push(
      `    Port ${p.name} (${p.kind}${p.zone ? `, zone ${p.zone}` : ""}): ${
        (st?.state as string | undefined) ?? "absent"
      }${link ? `, link ${link.name} ${link.up ? "up" : "down"}` : ""}`,
      `        mac ${p.mac}${
        (p.addresses as string[]).length ? `, addresses ${list(p.addresses)}` : ""
      }`,
    );
    const ov = p.overlay as Row | undefined;
    if (ov) {
      const ips = [ov.ipv4, ov.ipv6].filter((x) => x).join(", ");
      out.push(`        overlay vni ${ov.vni}${ips ? `, ${ips}` : ""}`);
      const x = externalText(external[p.name as string]);
      if (x) out.push(`        external ${x}`);
    }
  }
  out.push("    Underlay");
  if (links === null) out.push("        (links and neighbours: not on this datapath)");
  for (const l of links ?? []) {
    out.push(
      `        Link ${l.name}: ${l.up ? "up" : "down"}, mtu ${list(l.mtu)}, ${list(l.linkLocal)}`,
    );
    for (const n of (neighbours ?? []).filter((n) => n.link === l.name)) {
      out.push(`            neighbour ${n.address} ${n.mac ?? "(no MAC yet)"} ${n.state}`);
    }
  }
  for (const r of routes) {
    out.push(
      `        Route ${r.prefix} via ${(r.nextHops as Row[]).map((h) => `${h.via}%${h.link}`)}`,
    );
  }
  // Fleet mode only: the etcd connection, revision and conflicts, as `fleet status` shows them.
  if (fleet.enabled) {
    out.push("    Fleet");
    for (const l of renderFleetStatus(fleet).split("\n")) out.push(`        ${l}`);
  }
  return {
    data: { health, ports, externalIps: external, links, neighbours, routes, fleet },
    text: out.join("\n"),
  };
}

/** The show verb. */
export const SHOW_VERBS: Record<string, Verb> = {
  show: {
    summary: "one overview: ports (addresses, overlay, external IPs, state), underlay, routes",
    usage: "show",
    args: 0,
    async run(c) {
      const s = await showText(c);
      return { data: s.data, table: () => s.text };
    },
  },
};
