// The VPC router table: destination prefix → target. Longest prefix wins; at equal length a
// custom route beats a system route. Lookups are slow-path only (the verdict is cached in the
// flow tables), so a sorted list with precomputed masks is enough.

import { ipToString, parseIp } from "../packet/bytes.ts";
import { addrWordsInto, type Cidr, cidrContains, cidrToString, parseCidr } from "../packet/addr.ts";
import { InvalidField } from "../contract/field_error.ts";
import type { FieldError } from "./validate.ts";

/** Where a route sends matching traffic. */
export type RouterTarget =
  | { readonly kind: "drop" }
  | { readonly kind: "internet-gateway"; readonly id?: string }
  | { readonly kind: "ip"; readonly ip: string }
  | { readonly kind: "vpc-subnet"; readonly cidr: string };

/** System routes come from the VPC itself; custom routes from the user's router. */
export type RouteClass = "system" | "custom";

/** A route as configured. */
export interface Route {
  readonly dest: string;
  readonly target: RouterTarget;
  readonly class: RouteClass;
}

/** A validated route with its prefix in word form. */
export interface RouteEntry extends Route {
  readonly cidr: Cidr;
  /** The `ip` target's address in word form (the overlay's V2P key); null for other targets. */
  readonly nextHop: { readonly af: 4 | 6; readonly words: Uint32Array } | null;
}

/**
 * An engine rule priority (lower first) that encodes the table's order: longer prefixes first,
 * custom before system at equal length (upstream's `((max_len - len) << 1 | is_system) + 10`,
 * with the family's own maximum length).
 */
export function routePriority(len: number, cls: RouteClass, af: 4 | 6 = 6): number {
  return 10 + 2 * ((af === 4 ? 32 : 128) - len) + (cls === "custom" ? 0 : 1);
}

/** Parses opteadm's target text: `drop`, `ig`, `ig=<id>`, `ip4=`/`ip6=<addr>`, `sub4=`/`sub6=<cidr>`
 * (also `ip=`/`subnet=` of either family); null when malformed. */
export function parseRouterTarget(s: string): RouterTarget | null {
  const t = s.trim();
  const low = t.toLowerCase();
  if (low === "drop") return { kind: "drop" };
  if (low === "ig") return { kind: "internet-gateway" };
  const eq = t.indexOf("=");
  if (eq < 0) return null;
  const key = low.slice(0, eq), val = t.slice(eq + 1);
  const fam = key.endsWith("4") ? 4 : key.endsWith("6") ? 6 : 0;
  if (key === "ig" && /^[A-Za-z0-9-]{1,64}$/.test(val)) {
    return { kind: "internet-gateway", id: val.toLowerCase() };
  }
  if (key === "ip" || key === "ip4" || key === "ip6") {
    const ip = parseIp(val);
    if (ip && (!fam || (ip.length === 4 ? 4 : 6) === fam)) return { kind: "ip", ip: val };
  }
  if (key === "subnet" || key === "sub4" || key === "sub6") {
    const c = parseCidr(val);
    if (c && (!fam || c.af === fam)) return { kind: "vpc-subnet", cidr: val };
  }
  return null;
}

/** opteadm's text form of a target (`ig=<id>`, `ip4=…`, `sub6=…`). */
export function routerTargetText(t: RouterTarget): string {
  switch (t.kind) {
    case "drop":
      return "drop";
    case "internet-gateway":
      return t.id ? `ig=${t.id}` : "ig";
    case "ip":
      return `ip${t.ip.includes(":") ? 6 : 4}=${t.ip}`;
    case "vpc-subnet":
      return `sub${t.cidr.includes(":") ? 6 : 4}=${t.cidr}`;
  }
}

/** True when two targets are the same (exact match, as deletion needs). */
export function sameTarget(a: RouterTarget, b: RouterTarget): boolean {
  return routerTargetText(canonicalTarget(a)) === routerTargetText(canonicalTarget(b));
}

function canonicalTarget(t: RouterTarget): RouterTarget {
  if (t.kind === "ip") {
    const b = parseIp(t.ip);
    return b ? { kind: "ip", ip: ipToString(b) } : t;
  }
  if (t.kind === "vpc-subnet") {
    const c = parseCidr(t.cidr);
    return c ? { kind: "vpc-subnet", cidr: cidrToString(c) } : t;
  }
  return t;
}

/** Checks a route; returns the entry or the error naming the field. */
export function validateRoute(r: Route, where = "route"): RouteEntry | FieldError {
  const cidr = parseCidr(r.dest);
  if (!cidr) {
    return {
      field: `${where}.dest`,
      message:
        `"${r.dest}" is not a prefix (expected e.g. 10.0.0.0/24 or fd00::/64 with host bits zero)`,
    };
  }
  if (isMulticast(cidr)) {
    return {
      field: `${where}.dest`,
      message:
        `${r.dest} is a multicast prefix (multicast is not routed: use M2P and subscriptions)`,
    };
  }
  if (r.class !== "system" && r.class !== "custom") {
    return {
      field: `${where}.class`,
      message: `"${r.class}" is not a route class (expected system or custom)`,
    };
  }
  const t = r.target;
  let nextHop: RouteEntry["nextHop"] = null;
  if (t.kind === "ip") {
    const ip = parseIp(t.ip);
    if (!ip) return { field: `${where}.target.ip`, message: `"${t.ip}" is not an IP address` };
    if ((ip.length === 4 ? 4 : 6) !== cidr.af) {
      return {
        field: `${where}.target.ip`,
        message: `${t.ip} is not of the destination's family (IPv${cidr.af})`,
      };
    }
    const words = new Uint32Array(4);
    addrWordsInto(ip, words);
    nextHop = { af: cidr.af, words };
  } else if (t.kind === "vpc-subnet") {
    const c = parseCidr(t.cidr);
    if (!c) return { field: `${where}.target.cidr`, message: `"${t.cidr}" is not a prefix` };
    if (c.af !== cidr.af) {
      return {
        field: `${where}.target.cidr`,
        message: `${t.cidr} is not of the destination's family (IPv${cidr.af})`,
      };
    }
  } else if (t.kind === "internet-gateway") {
    if (t.id !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(t.id)) {
      return {
        field: `${where}.target.id`,
        message: `"${t.id}" is not an internet gateway id (expected a UUID)`,
      };
    }
  } else if (t.kind !== "drop") {
    return {
      field: `${where}.target.kind`,
      message: `"${
        (t as { kind: string }).kind
      }" is not a target (expected drop, internet-gateway, ip or vpc-subnet)`,
    };
  }
  return { ...r, cidr, nextHop };
}

/** A route table with run-time add/remove/replace; every change bumps `generation`. Like
 * upstream's router layer it keeps duplicates: each add is one more entry. */
export class RouterTable {
  generation = 0;
  #routes: RouteEntry[] = [];

  /** Adds one entry (duplicates allowed); throws InvalidField naming the bad field. */
  add(r: Route): RouteEntry {
    const e = validateRoute(r);
    if ("field" in e) throw new InvalidField(e.field, e.message);
    this.#routes.push(e);
    this.#sort();
    return e;
  }

  /** Removes one entry matching destination, target and class exactly; false when none. */
  remove(r: Route): boolean {
    const c = parseCidr(r.dest);
    if (!c) return false;
    const i = this.#routes.findIndex((x) =>
      x.class === r.class && x.cidr.af === c.af && x.cidr.len === c.len &&
      x.cidr.words.every((w, j) => w === c.words[j]) && sameTarget(x.target, r.target)
    );
    if (i < 0) return false;
    this.#routes.splice(i, 1);
    this.generation++;
    return true;
  }

  /** Replaces every route of class `cls` (all classes when omitted); validates all first. */
  replaceAll(routes: readonly Route[], cls?: RouteClass): void {
    const entries = routes.map((r, i) => {
      const e = validateRoute(r, `routes[${i}]`);
      if ("field" in e) throw new InvalidField(e.field, e.message);
      return e;
    });
    this.#routes = cls ? this.#routes.filter((x) => x.class !== cls).concat(entries) : entries;
    this.#sort();
  }

  /** The winning route for an address (words, IPv4 in word 0), or null: no route → drop. */
  lookup(af: number, w: Uint32Array, at = 0): RouteEntry | null {
    for (const r of this.#routes) if (cidrContains(r.cidr, af, w, at)) return r;
    return null;
  }

  /** The validated routes in match order. */
  entries(): readonly RouteEntry[] {
    return this.#routes;
  }

  /** The routes in match order, as configured. */
  list(): Route[] {
    return this.#routes.map((r) => ({
      dest: cidrToString(r.cidr),
      target: r.target,
      class: r.class,
    }));
  }

  #sort(): void {
    // Stable: equal entries keep insertion order.
    this.#routes.sort((a, b) =>
      b.cidr.len - a.cidr.len || (a.class === b.class ? 0 : a.class === "custom" ? -1 : 1)
    );
    this.generation++;
  }
}

function isMulticast(c: Cidr): boolean {
  return c.af === 4
    ? c.len >= 4 && (c.words[0] >>> 28) === 0xe
    : c.len >= 8 && (c.words[0] >>> 24) === 0xff;
}

/**
 * The routes a port gets when its config names none: each family's subnet → vpc-subnet and
 * default → internet gateway, both of class system (what Omicron installs for a new NIC).
 */
export function defaultRoutes(c: {
  v4?: { subnet: string };
  v6?: { subnet: string };
}): Route[] {
  const out: Route[] = [];
  for (const [fam, any] of [[c.v4, "0.0.0.0/0"], [c.v6, "::/0"]] as const) {
    if (!fam) continue;
    out.push({
      dest: fam.subnet,
      target: { kind: "vpc-subnet", cidr: fam.subnet },
      class: "system",
    });
    out.push({ dest: any, target: { kind: "internet-gateway" }, class: "system" });
  }
  return out;
}
