// CLI underlay verbs: routes, links (carrier, MTU, counters) and the neighbour cache.

import { listVerb, type Row, tableOf, type Verb } from "./common.ts";

/** Underlay verbs. */
export const UNDERLAY_VERBS: Record<string, Verb> = {
  "list-underlay-routes": listVerb(
    "list underlay routes",
    "list-underlay-routes",
    "/v1/underlay/routes",
    (r) =>
      tableOf(["PREFIX", "NEXT HOPS"], r, [
        (x) => x.prefix,
        (x) => (x.nextHops as Row[]).map((h) => `${h.via}%${h.link}`),
      ]),
  ),
  "list-underlay-links": listVerb(
    "list underlay links: carrier, MTU, link-local address, frame counters",
    "list-underlay-links",
    "/v1/underlay/links",
    (r) => linksTable(r),
  ),
  "list-neighbours": listVerb(
    "list the underlay neighbour cache (next hops resolved by NDP)",
    "list-neighbours",
    "/v1/underlay/neighbours",
    (r) => neighboursTable(r),
  ),
};

/** The underlay links table (list-underlay-links, show). */
export const linksTable = (r: Row[]) =>
  tableOf(["LINK", "UP", "MTU", "LINK-LOCAL", "NEIGHBOURS", "RX", "TX"], r, [
    (l) => l.name,
    (l) => (l.up === undefined ? undefined : l.up ? "yes" : "no"),
    (l) => l.mtu,
    (l) => l.linkLocal,
    (l) => l.neighbours,
    (l) => (l.counters as Row | undefined)?.rx_frames,
    (l) => (l.counters as Row | undefined)?.tx_frames,
  ]);

/** The neighbour cache table (list-neighbours, show). */
export const neighboursTable = (r: Row[]) =>
  tableOf(["LINK", "ADDRESS", "MAC", "STATE", "ROUTES", "CONFIRMED"], r, [
    (n) => n.link,
    (n) => n.address,
    (n) => n.mac,
    (n) => n.state,
    (n) => n.routes,
    (n) => (n.confirmedMsAgo === null ? "never" : `${n.confirmedMsAgo} ms ago`),
  ]);
