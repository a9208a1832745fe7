// Underlay routes: prefix → next hops (a rack router's link-local address on one of our
// underlay links). Each route keeps the subset of its next hops that are live (link up and
// neighbour reachable), rebuilt only when liveness changes, so the per-packet ECMP choice is
// one modulo of the flow hash.

import { FLOW_WORDS, smallHash } from "../packet/flow.ts";
import type { CaptureLink } from "../link/capture.ts";
import type { Neighbor, NeighborCache } from "./neighbor.ts";
import type { TxQueue } from "./txq.ts";

/** One underlay link as the switch uses it. */
export interface UnderlayLink {
  /** The configured link in the capture wrapper (captures attach there). */
  readonly link: CaptureLink;
  /** Our link-local address on it (source of our NDP). */
  readonly linkLocal: Uint8Array;
  readonly neighbors: NeighborCache;
  readonly tx: TxQueue;
  /** Carrier as of the last timer pass. */
  up: boolean;
}

/** A next hop: a neighbour on an underlay link. */
export interface NextHop {
  readonly ul: UnderlayLink;
  readonly neighbor: Neighbor;
}

/** One prefix and its next hops. */
export class Route {
  /** Next hops usable now. */
  live: NextHop[] = [];

  constructor(readonly prefix: Uint8Array, readonly len: number, readonly hops: NextHop[]) {}

  /** Per hop (same index as `hops`): 1 when live. */
  private up = new Uint8Array(0);

  /** Recomputes `live`; true when it changed. */
  refresh(): boolean {
    const live = this.hops.filter((h) => h.ul.up && h.neighbor.live);
    const same = live.length === this.live.length && live.every((h, i) => h === this.live[i]);
    this.live = live;
    this.up = Uint8Array.from(this.hops, (h) => live.includes(h) ? 1 : 0);
    return !same;
  }

  /**
   * The next hop for a flow hash, or null when none is usable. A flow keeps its hop while that
   * hop is live (its slot among all hops, not among the live ones), so a failure moves only the
   * failed hop's flows, spread over the survivors, and a recovery brings exactly those back.
   */
  pick(hash: number): NextHop | null {
    const n = this.hops.length;
    if (n === 0) return null;
    const slot = hash % n;
    if (this.up[slot] === 1) return this.hops[slot];
    const live = this.live;
    if (live.length > 0) return live[((hash >>> 7) ^ (hash >>> 19)) % live.length];
    // Last resort: no hop answered its probes lately, but one whose link is up still has a MAC.
    // A peer sled saturated by our own traffic loses our NDP probes; dropping everything then
    // would turn overload into an outage, and nothing better is left to fail over to.
    for (let i = 0; i < n; i++) {
      const h = this.hops[(slot + i) % n];
      if (h.ul.up && h.neighbor.hasMac) return h;
    }
    return null;
  }
}

/** The ECMP hash of a flow id (30 bits: a small integer, so passing it around never allocates). */
export function ecmpHash(w: Uint32Array): number {
  return smallHash(w, 0, FLOW_WORDS);
}

/** True when the 16 bytes at `b[off]` fall in `prefix`/`len`. */
export function inPrefix(b: Uint8Array, off: number, prefix: Uint8Array, len: number): boolean {
  const whole = len >>> 3;
  for (let i = 0; i < whole; i++) if (b[off + i] !== prefix[i]) return false;
  const rest = len & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >>> rest) & 0xff;
  return (b[off + whole] & mask) === (prefix[whole] & mask);
}

/** Longest-prefix-match table of underlay routes. */
export class RouteTable {
  /** Longest prefix first. */
  readonly routes: Route[] = [];
  /**
   * Bumped by every change that can move a flow (a route set or removed, a next hop's liveness):
   * a next hop cached with an older generation is stale.
   */
  gen = 0;

  /** The most specific route covering the address at `b[off]`, or null. */
  lookup(b: Uint8Array, off: number): Route | null {
    const rs = this.routes;
    for (let i = 0; i < rs.length; i++) {
      if (inPrefix(b, off, rs[i].prefix, rs[i].len)) return rs[i];
    }
    return null;
  }

  /** Index of the route for exactly `prefix`/`len`, or -1. */
  indexOf(prefix: Uint8Array, len: number): number {
    return this.routes.findIndex((r) => r.len === len && inPrefix(prefix, 0, r.prefix, len));
  }

  /** Adds or replaces a route; returns the one it replaced. */
  set(route: Route): Route | undefined {
    const i = this.indexOf(route.prefix, route.len);
    const old = i >= 0 ? this.routes.splice(i, 1)[0] : undefined;
    route.refresh();
    const at = this.routes.findIndex((r) => r.len < route.len);
    this.routes.splice(at < 0 ? this.routes.length : at, 0, route);
    this.gen++;
    return old;
  }

  /** Removes a route; returns it. */
  remove(prefix: Uint8Array, len: number): Route | undefined {
    const i = this.indexOf(prefix, len);
    if (i < 0) return undefined;
    this.gen++;
    return this.routes.splice(i, 1)[0];
  }

  /** Recomputes every route's live set; true when any changed. */
  refresh(): boolean {
    let changed = false;
    for (const r of this.routes) if (r.refresh()) changed = true;
    if (changed) this.gen++;
    return changed;
  }
}

/** Releases the neighbour references a route held. */
export function releaseHops(route: Route): void {
  for (const h of route.hops) h.ul.neighbors.release(h.neighbor);
}
