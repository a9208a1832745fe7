// Making room in a full table, after upstream OPTE's eviction policy: dead entries go first, then
// the TCP flow most eligible by its state (`tcpEvictPriority`: closed, then half-open or closing
// flows past their grace period, the longer idle the sooner; established flows only once idle
// past the UFT idle TTL), the oldest on a tie. UDP/ICMP flows are never evicted; when nothing
// qualifies the caller drops the new flow and counts it. A scan reclaims every dead entry it
// walks past (closed or removed TCP flows, which would be the first victims anyway), not just one:
// a connection storm fills the tables with reset flows, and one victim per scan made every new flow
// walk the whole table (8,192 entries, ~0.4 ms) once it was full.

import type { Layer } from "./layer.ts";
import { DIR_IN, DIR_OUT } from "./packet.ts";
import type { FlowState } from "./flows.ts";
import { EVICT_MAX, EVICT_PROTECTED, tcpEvictPriority, type TcpFlow } from "./tcp.ts";
import { type LftPair, pairLastHit, type UftEntry } from "./uft.ts";

/** Which table needs room. */
export type Eviction = "uft" | "tcp" | Layer;

/**
 * After a scan that freed nothing, the same table is not scanned again for this long: a scan of a
 * full million-entry table takes tens of ms, and repeating it for every new flow would stall the
 * datapath exactly when it is busiest. Room made otherwise (a close, an expire) is used at once.
 */
export const EVICT_BACKOFF_MS = 1000;

function occupancy(flows: FlowState, which: Eviction): number {
  if (which === "uft") return flows.uft[DIR_OUT].size + flows.uft[DIR_IN].size;
  if (which === "tcp") return flows.tcp.size;
  return which.lft[DIR_OUT].size;
}

/** Frees room in `which`; the caller retries its insert. */
export function evictFor(flows: FlowState, which: Eviction, now: number): void {
  const last = flows.fruitlessScan.get(which);
  if (last !== undefined && now >= last && now - last < EVICT_BACKOFF_MS) return;
  const before = occupancy(flows, which);
  flows.stats.evictScans++;
  if (which === "uft") evictUft(flows, now);
  else if (which === "tcp") evictTcp(flows, now);
  else evictLft(flows, which, now);
  if (occupancy(flows, which) < before) flows.fruitlessScan.delete(which);
  else flows.fruitlessScan.set(which, now);
}

/** The best victim so far: highest priority, then oldest; dead entries are all kept. */
class Pick<T> {
  item: T | null = null;
  prio = EVICT_PROTECTED;
  last = 0;
  readonly dead: T[] = [];
  offer(item: T, prio: number, last: number): void {
    if (prio === EVICT_PROTECTED) return;
    if (prio === EVICT_MAX) this.dead.push(item);
    if (this.item === null || prio > this.prio || (prio === this.prio && last < this.last)) {
      this.item = item;
      this.prio = prio;
      this.last = last;
    }
  }
}

function prioOf(flows: FlowState, f: TcpFlow | null, now: number): number {
  return f === null ? EVICT_PROTECTED : tcpEvictPriority(f, now, flows.tcpTtls, flows.flowTtl);
}

function evictUft(flows: FlowState, now: number): void {
  const before = flows.uft[DIR_OUT].size + flows.uft[DIR_IN].size;
  flows.expire(now);
  if (flows.uft[DIR_OUT].size + flows.uft[DIR_IN].size < before) return;
  const pick = new Pick<UftEntry>();
  for (const d of [DIR_OUT, DIR_IN] as const) {
    for (const e of flows.uft[d].values() as UftEntry[]) {
      pick.offer(e, prioOf(flows, e.tcp, now), e.lastHit);
    }
  }
  for (const e of victims(pick)) {
    if (!e.live) continue; // went with an earlier victim's TCP flow
    flows.stats.uftEvictions++;
    if (e.tcp !== null && e.tcp.live) flows.removeTcp(e.tcp);
    else flows.removeUft(e, true);
  }
}

/** The dead entries found, or else the single best victim (none when all are protected). */
function victims<T>(pick: Pick<T>): T[] {
  if (pick.dead.length > 0) return pick.dead;
  return pick.item === null ? [] : [pick.item];
}

function evictTcp(flows: FlowState, now: number): void {
  const pick = new Pick<TcpFlow>();
  let freed = false;
  for (const f of flows.tcp.values()) {
    if (flows.tcpExpired(f, now)) {
      flows.removeTcp(f);
      flows.stats.tcpExpired++;
      freed = true;
    } else pick.offer(f, prioOf(flows, f, now), f.lastHit);
  }
  if (freed) return;
  for (const f of victims(pick)) {
    if (!f.live) continue;
    flows.stats.tcpEvictions++;
    flows.removeTcp(f);
  }
}

function evictLft(flows: FlowState, L: Layer, now: number): void {
  const pick = new Pick<LftPair>();
  let freed = false;
  for (const p of L.lft[DIR_OUT].values()) {
    if (flows.pairExpired(p, now)) {
      flows.killPair(L, p);
      L.stats.lftExpired++;
      freed = true;
    } else pick.offer(p, prioOf(flows, p.tcp, now), pairLastHit(p));
  }
  if (freed) return;
  for (const p of victims(pick)) {
    if (!p.live) continue;
    L.stats.lftEvictions++;
    flows.killPair(L, p);
  }
}
