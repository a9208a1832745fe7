// A per-link neighbour cache for the underlay next hops (RFC 4861 in miniature). Next hops are
// probed with unicast NS often enough that one that stops answering is out of ECMP within a
// second; unresolved or failed ones are solicited by multicast until they answer again.

import { KeyTable } from "./keytable.ts";
import { copyBytes } from "../packet/bytes.ts";

/** Not yet resolved (no MAC, or forgotten after expiry). */
export const NEIGH_INCOMPLETE = 0;
/** Answered recently: usable as a next hop. */
export const NEIGH_REACHABLE = 1;
/** Stopped answering: kept out of ECMP until it answers again. */
export const NEIGH_FAILED = 2;

/** Timers of neighbour unreachability detection, in milliseconds. */
export interface NudTimers {
  /** Unicast probe period for reachable neighbours. */
  probeMs: number;
  /** A reachable neighbour with no answer for this long fails. */
  deadMs: number;
  /** Multicast solicitation period for incomplete or failed neighbours. */
  retryMs: number;
  /** A failed neighbour's MAC is forgotten after this long. */
  expireMs: number;
}

/** Defaults that keep failover under one second. */
export const DEFAULT_NUD: NudTimers = { probeMs: 250, deadMs: 900, retryMs: 500, expireMs: 30_000 };

/** One next hop's resolution state. */
export class Neighbor {
  readonly mac = new Uint8Array(6);
  hasMac = false;
  state = NEIGH_INCOMPLETE;
  /** When a solicited NA last confirmed it. */
  confirmed = -Infinity;
  /** When we last solicited it. */
  lastSent = -Infinity;
  failedAt = -Infinity;
  /** Routes using it; the entry goes when this drops to zero. */
  refs = 0;

  constructor(readonly addr: Uint8Array) {}

  /** True when it may carry traffic. */
  get live(): boolean {
    return this.state === NEIGH_REACHABLE;
  }
}

/** The neighbour cache of one underlay link. */
export class NeighborCache {
  private readonly table = new KeyTable<Neighbor>(16);
  /** Every entry, for the timer walk. */
  readonly list: Neighbor[] = [];

  constructor(readonly timers: NudTimers = DEFAULT_NUD) {}

  /** The entry for `addr`, created when missing; takes a reference. */
  acquire(addr: Uint8Array): Neighbor {
    let n = this.table.get(addr, 0);
    if (n === undefined) {
      n = new Neighbor(addr.slice(0, 16));
      this.table.set(n.addr, 0, n);
      this.list.push(n);
    }
    n.refs++;
    return n;
  }

  /** Drops a reference; the entry is removed with its last one. */
  release(n: Neighbor): void {
    if (--n.refs > 0) return;
    this.table.delete(n.addr, 0);
    const i = this.list.indexOf(n);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** The entry for the address at `b[off]`, if any. */
  get(b: Uint8Array, off: number): Neighbor | undefined {
    return this.table.get(b, off, 0);
  }

  /**
   * Applies a neighbour advertisement for the target at `b[tOff]` whose link-layer address is at
   * `b[macOff]` (-1: none). Returns true when the entry's liveness changed.
   */
  advert(
    b: Uint8Array,
    tOff: number,
    macOff: number,
    solicited: boolean,
    override: boolean,
    now: number,
  ): boolean {
    const n = this.table.get(b, tOff, 0);
    if (n === undefined) return false;
    if (macOff >= 0 && (override || !n.hasMac)) {
      copyBytes(b, macOff, n.mac, 0, 6);
      n.hasMac = true;
    }
    // Only a solicited answer proves the path works both ways (RFC 4861 §7.3.1).
    if (!solicited || !n.hasMac) return false;
    n.confirmed = now;
    if (n.state === NEIGH_REACHABLE) return false;
    n.state = NEIGH_REACHABLE;
    return true;
  }

  /**
   * Runs the timers at `now`: calls `solicit(n, unicast)` for each probe due. Returns true when
   * some entry's liveness changed.
   */
  tick(now: number, solicit: (n: Neighbor, unicast: boolean) => void): boolean {
    const t = this.timers;
    let changed = false;
    for (const n of this.list) {
      if (n.state === NEIGH_REACHABLE) {
        if (now - n.confirmed > t.deadMs) {
          n.state = NEIGH_FAILED;
          n.failedAt = now;
          changed = true;
        } else {
          if (now - n.lastSent >= t.probeMs) {
            n.lastSent = now;
            solicit(n, true);
          }
          continue;
        }
      }
      if (n.state === NEIGH_FAILED && now - n.failedAt > t.expireMs) {
        n.state = NEIGH_INCOMPLETE;
        n.hasMac = false;
      }
      if (now - n.lastSent >= t.retryMs) {
        n.lastSent = now;
        solicit(n, false);
      }
    }
    return changed;
  }

  /** Marks every entry failed (the link went down). Returns true when any was live. */
  failAll(now: number): boolean {
    let changed = false;
    for (const n of this.list) {
      if (n.state === NEIGH_REACHABLE) {
        n.state = NEIGH_FAILED;
        n.failedAt = now;
        changed = true;
      }
    }
    return changed;
  }
}
