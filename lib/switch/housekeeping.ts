// Between batches, on a timer: callers' hooks (link monitors, capture flushes), pipelines' flow
// expiry, link carrier and neighbour probing on every underlay link. Keeps each route's live
// next hops current and counts hops leaving and rejoining ECMP.

import { EV } from "./counters.ts";
import type { Datapath } from "./datapath.ts";
import type { SwitchPort } from "./port.ts";
import type { Route, UnderlayLink } from "./routes.ts";

/** The switch's timer pass and next-hop liveness bookkeeping. */
export class Housekeeping {
  private lastTick = -Infinity;
  private lastExpire = -Infinity;
  private readonly hooks: (() => void)[] = [];
  private readonly liveCount = new Map<Route, number>();

  constructor(
    private readonly dp: Datapath,
    private readonly ports: readonly SwitchPort[],
    private readonly underlay: readonly UnderlayLink[],
    /** Minimum ms between passes. */
    readonly tickMs: number,
    private readonly expireMs: number,
  ) {}

  /** Runs `fn` on every pass. */
  onTick(fn: () => void): void {
    this.hooks.push(fn);
  }

  /** Runs a pass when one is due at `now`. */
  due(now: number): void {
    if (now - this.lastTick >= this.tickMs) this.tick(now);
  }

  /** A route replaced `old` (if any): its hops are counted from now, and resolved next pass. */
  routeSet(route: Route, old: Route | null): void {
    if (old) this.liveCount.delete(old);
    this.liveCount.set(route, route.live.length);
    // Resolve new next hops now rather than on the next timer pass.
    this.lastTick = -Infinity;
  }

  /** A route went away. */
  routeRemoved(old: Route): void {
    this.liveCount.delete(old);
  }

  /** Neighbour timers and link carrier: keeps each route's live next hops current. */
  private tick(now: number): void {
    this.lastTick = now;
    for (const h of this.hooks) h();
    if (now - this.lastExpire >= this.expireMs) {
      this.lastExpire = now;
      for (const p of this.ports) p.pipeline?.expire?.();
    }
    let changed = false;
    for (const ul of this.underlay) {
      const up = ul.link.isUp();
      if (up !== ul.up) {
        ul.up = up;
        changed = true;
        if (!up) ul.neighbors.failAll(now);
      }
      if (up && ul.neighbors.tick(now, (n, unicast) => this.dp.ndp.solicit(ul, n, unicast))) {
        changed = true;
      }
    }
    if (changed) this.livenessChanged();
  }

  /** Refreshes live next hops and counts hops leaving and rejoining ECMP. */
  livenessChanged(): void {
    const { routes, counters } = this.dp;
    routes.refresh();
    for (const r of routes.routes) {
      const before = this.liveCount.get(r) ?? 0, after = r.live.length;
      if (after < before) counters.events[EV["next-hop-down"]] += before - after;
      if (after > before) counters.events[EV["next-hop-up"]] += after - before;
      this.liveCount.set(r, after);
    }
  }
}
