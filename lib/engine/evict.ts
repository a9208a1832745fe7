// Making room in a full table: dead entries go first, then the oldest misbehaving TCP flow
// (one not ESTABLISHED). Healthy UDP/ICMP flows and established TCP flows are never evicted;
// when nothing qualifies the caller drops the new flow and counts it.

import type { Layer } from "./layer.ts";
import { DIR_IN, DIR_OUT } from "./packet.ts";
import type { FlowState } from "./flows.ts";
import { TCP_ESTABLISHED, type TcpFlow } from "./tcp.ts";
import { type LftPair, pairLastHit, type UftEntry } from "./uft.ts";

/** Which table needs room. */
export type Eviction = "uft" | "tcp" | Layer;

function misbehaving(f: TcpFlow | null): f is TcpFlow {
  return f !== null && f.live && f.state !== TCP_ESTABLISHED;
}

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

function evictUft(flows: FlowState, now: number): void {
  const before = flows.uft[DIR_OUT].size + flows.uft[DIR_IN].size;
  flows.expire(now);
  if (flows.uft[DIR_OUT].size + flows.uft[DIR_IN].size < before) return;
  let victim: TcpFlow | null = null;
  for (const d of [DIR_OUT, DIR_IN] as const) {
    for (const e of flows.uft[d].values() as UftEntry[]) {
      const f = e.tcp;
      if (misbehaving(f) && (victim === null || f.lastHit < victim.lastHit)) victim = f;
    }
  }
  if (victim !== null) {
    flows.stats.uftEvictions++;
    flows.removeTcp(victim);
  }
}

function evictTcp(flows: FlowState, now: number): void {
  let victim: TcpFlow | null = null;
  let freed = false;
  for (const f of flows.tcp.values()) {
    if (flows.tcpExpired(f, now)) {
      flows.removeTcp(f);
      flows.stats.tcpExpired++;
      freed = true;
    } else if (misbehaving(f) && (victim === null || f.lastHit < victim.lastHit)) victim = f;
  }
  if (!freed && victim !== null) {
    flows.stats.tcpEvictions++;
    flows.removeTcp(victim);
  }
}

function evictLft(flows: FlowState, L: Layer, now: number): void {
  let victim: LftPair | null = null;
  let freed = false;
  for (const p of L.lft[DIR_OUT].values()) {
    if (flows.pairExpired(p, now)) {
      flows.killPair(L, p);
      L.stats.lftExpired++;
      freed = true;
    } else if (
      misbehaving(p.tcp) && (victim === null || pairLastHit(p) < pairLastHit(victim))
    ) victim = p;
  }
  if (!freed && victim !== null) {
    L.stats.lftEvictions++;
    flows.killPair(L, victim);
  }
}
