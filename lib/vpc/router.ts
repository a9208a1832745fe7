// The VPC router table: destination prefix → target. Longest prefix wins; at equal length a
// custom route beats a system route. Lookups are slow-path only (the verdict is cached in the
// flow tables), so a sorted list with precomputed masks is enough.

import { parseIp } from "../packet/bytes.ts";
import { type Cidr, cidrContains, cidrToString, parseCidr } from "./ip.ts";

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
}

/** Numeric target kinds, written into action metadata for the nat and overlay layers. */
export const TARGET_DROP = 0;
export const TARGET_IGW = 1;
export const TARGET_IP = 2;
export const TARGET_SUBNET = 3;

/** The numeric kind of a target. */
export function targetCode(t: RouterTarget): number {
  switch (t.kind) {
    case "drop":
      return TARGET_DROP;
    case "internet-gateway":
      return TARGET_IGW;
    case "ip":
      return TARGET_IP;
    case "vpc-subnet":
      return TARGET_SUBNET;
  }
}

/**
 * An engine rule priority (lower first) that encodes the table's order: longer prefixes first,
 * custom before system at equal length.
 */
export function routePriority(len: number, cls: RouteClass): number {
  return 10 + 2 * (128 - len) + (cls === "custom" ? 0 : 1);
}

/** Parses `drop`, `ig`, `ig=<id>`, `ip=<addr>`, `subnet=<cidr>`; null when malformed. */
export function parseRouterTarget(s: string): RouterTarget | null {
  const t = s.trim();
  if (t === "drop") return { kind: "drop" };
  if (t === "ig") return { kind: "internet-gateway" };
  const eq = t.indexOf("=");
  if (eq < 0) return null;
  const key = t.slice(0, eq), val = t.slice(eq + 1);
  if (key === "ig" && val !== "") return { kind: "internet-gateway", id: val };
  if (key === "ip" && parseIp(val)) return { kind: "ip", ip: val };
  if (key === "subnet" && parseCidr(val)) return { kind: "vpc-subnet", cidr: val };
  return null;
}

/** Checks a route; returns the entry or an error naming the field. */
export function validateRoute(r: Route, where = "route"): RouteEntry | string {
  const cidr = parseCidr(r.dest);
  if (!cidr) {
    return `${where}.dest: "${r.dest}" is not a prefix (expected e.g. 10.0.0.0/24 or fd00::/64 with host bits zero)`;
  }
  if (r.class !== "system" && r.class !== "custom") {
    return `${where}.class: "${r.class}" is not a route class (expected system or custom)`;
  }
  const t = r.target;
  if (t.kind === "ip") {
    const ip = parseIp(t.ip);
    if (!ip) return `${where}.target.ip: "${t.ip}" is not an IP address`;
    if ((ip.length === 4 ? 4 : 6) !== cidr.af) {
      return `${where}.target.ip: ${t.ip} is not of the destination's family (IPv${cidr.af})`;
    }
  } else if (t.kind === "vpc-subnet") {
    const c = parseCidr(t.cidr);
    if (!c) return `${where}.target.cidr: "${t.cidr}" is not a prefix`;
    if (c.af !== cidr.af) {
      return `${where}.target.cidr: ${t.cidr} is not of the destination's family (IPv${cidr.af})`;
    }
  } else if (t.kind !== "drop" && t.kind !== "internet-gateway") {
    return `${where}.target.kind: "${
      (t as { kind: string }).kind
    }" is not a target (expected drop, internet-gateway, ip or vpc-subnet)`;
  }
  return { ...r, cidr };
}

/** A route table with run-time add/remove/replace; every change bumps `generation`. */
export class RouterTable {
  generation = 0;
  #routes: RouteEntry[] = [];

  /** Adds (or replaces the same dest+class); throws RangeError naming the bad field. */
  add(r: Route): RouteEntry {
    const e = validateRoute(r);
    if (typeof e === "string") throw new RangeError(e);
    this.#routes = this.#routes.filter((x) => !(sameDest(x, e) && x.class === e.class));
    this.#routes.push(e);
    this.#sort();
    return e;
  }

  /** Removes the route for `dest` of class `cls`; false when there was none. */
  remove(dest: string, cls: RouteClass): boolean {
    const c = parseCidr(dest);
    if (!c) return false;
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((x) =>
      !(x.class === cls && x.cidr.af === c.af && x.cidr.len === c.len &&
        x.cidr.words.every((w, i) => w === c.words[i]))
    );
    if (this.#routes.length === before) return false;
    this.generation++;
    return true;
  }

  /** Replaces every route of class `cls` (all classes when omitted); validates all first. */
  replaceAll(routes: readonly Route[], cls?: RouteClass): void {
    const entries = routes.map((r, i) => {
      const e = validateRoute(r, `routes[${i}]`);
      if (typeof e === "string") throw new RangeError(e);
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
    this.#routes.sort((a, b) =>
      b.cidr.len - a.cidr.len || (a.class === b.class ? 0 : a.class === "custom" ? -1 : 1)
    );
    this.generation++;
  }
}

function sameDest(a: RouteEntry, b: RouteEntry): boolean {
  return a.cidr.af === b.cidr.af && a.cidr.len === b.cidr.len &&
    a.cidr.words.every((w, i) => w === b.cidr.words[i]);
}
