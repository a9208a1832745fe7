// A port's flow state: the UFT per direction, the TCP table and the bookkeeping that keeps them
// and the layers' LFT pairs consistent (pairing, removal, expiry, release, clearing). The epoch
// lives here too, because whether a UFT entry is usable depends on it.

import type { FlowId } from "../packet/flow.ts";
import { evictFor, type Eviction } from "./evict.ts";
import { FlowTable } from "./flow_table.ts";
import type { Layer } from "./layer.ts";
import { DIR_IN, DIR_OUT } from "./packet.ts";
import type { PortStats } from "./stats.ts";
import { type TcpFlow, tcpTtl, type TcpTtls } from "./tcp.ts";
import { type LftPair, pairLastHit, type UftEntry } from "./uft.ts";

/** The flow tables of one port. */
export class FlowState {
  /** UFT per direction. */
  readonly uft: readonly [FlowTable<UftEntry>, FlowTable<UftEntry>];
  readonly tcp: FlowTable<TcpFlow>;
  /** Bumped by every rule change; UFT entries of older epochs are rebuilt. */
  epoch = 1;
  /** When a victim scan of a table last freed nothing (see EVICT_BACKOFF_MS in evict.ts). */
  readonly fruitlessScan = new Map<Eviction, number>();

  constructor(
    readonly layers: readonly Layer[],
    readonly stats: PortStats,
    readonly flowTtl: number,
    readonly tcpTtls: TcpTtls,
    uftLimit: number,
    tcpLimit: number,
  ) {
    this.uft = [new FlowTable<UftEntry>(uftLimit), new FlowTable<UftEntry>(uftLimit)];
    this.tcp = new FlowTable<TcpFlow>(tcpLimit);
  }

  /**
   * True when UFT entry `e` may serve a packet: current epoch, not idle past its TTL (its TCP
   * flow's, for TCP), every LFT pair it used still alive. (`_t`/`_idx` are unused, kept for
   * callers: the idle time now lives on the entry.)
   */
  usable(e: UftEntry, now: number, _t?: FlowTable<UftEntry>, _idx?: number): boolean {
    if (e.epoch !== this.epoch) return false;
    // As upstream, UFT entries of TCP flows idle out on the same 60 s as others; the connection
    // keeps its LFT pairs (and so its translations) alive, and the next packet rebuilds the entry.
    if (now - e.lastHit > this.flowTtl) return false;
    const tf = e.tcp;
    if (tf !== null && (!tf.live || now - tf.lastHit > tcpTtl(tf.state, this.tcpTtls))) {
      return false;
    }
    if (e.touch) {
      const lfts = e.lfts;
      for (let i = 0; i < lfts.length; i++) if (!lfts[i].live) return false;
    }
    return true;
  }

  /** Inserts a UFT entry under `key` (replacing an older one), evicting when full. */
  insertUft(e: UftEntry, key: FlowId, now: number): boolean {
    const t = this.uft[e.dir];
    const old = t.get(key);
    if (old !== null) this.removeUft(old, false);
    let idx = t.set(key, e, now);
    if (idx < 0) {
      this.evict("uft", now);
      idx = t.set(key, e, now);
    }
    e.idx = idx;
    e.lastHit = now;
    if (idx < 0) return false;
    for (const p of e.lfts) {
      if (p.u0 === null) p.u0 = e;
      else if (p.u1 === null) p.u1 = e;
      else e.touch = true;
    }
    return true;
  }

  /** Inserts a TCP flow under its client-side outbound key, evicting when full. */
  insertTcp(f: TcpFlow, key: FlowId, now: number): boolean {
    let idx = this.tcp.set(key, f, now);
    if (idx < 0) {
      this.evict("tcp", now);
      idx = this.tcp.set(key, f, now);
    }
    f.idx = idx;
    return idx >= 0;
  }

  /** Inserts both halves of an LFT pair (killing pairs already at those keys), evicting when full. */
  insertPair(L: Layer, p: LftPair, outKey: FlowId, inKey: FlowId, now: number): boolean {
    const [to, ti] = L.lft;
    const o1 = to.get(outKey);
    if (o1 !== null) this.killPair(L, o1);
    const o2 = ti.get(inKey);
    if (o2 !== null) this.killPair(L, o2);
    if (to.full || ti.full) this.evict(L, now);
    if (to.full || ti.full) return false;
    p.outIdx = to.set(outKey, p, now);
    p.inIdx = ti.set(inKey, p, now);
    return true;
  }

  /** True when the TCP table has room for one more flow (evicting if it must). */
  tcpRoom(now: number): boolean {
    if (!this.tcp.full) return true;
    this.evict("tcp", now);
    return !this.tcp.full;
  }

  private evict(which: Eviction, now: number): void {
    evictFor(this, which, now);
  }

  /** Removes a UFT entry; with `withPair`, also the opposite direction's entry. */
  removeUft(e: UftEntry, withPair: boolean): void {
    if (!e.live) return;
    e.live = false;
    const t = this.uft[e.dir];
    if (e.idx >= 0 && t.valueAt(e.idx) === e) t.deleteAt(e.idx);
    if (e.tcp !== null && e.tcp.uft[e.dir] === e) e.tcp.uft[e.dir] = null;
    // The pairs keep this entry's last use (they may outlive it) and forget it as a user.
    for (const lp of e.lfts) {
      if (lp.u0 !== e && lp.u1 !== e) continue;
      if (e.lastHit > lp.lastHit) lp.lastHit = e.lastHit;
      if (lp.u0 === e) lp.u0 = null;
      else lp.u1 = null;
    }
    const p = e.pair;
    e.pair = null;
    if (p !== null) {
      p.pair = null;
      if (withPair) this.removeUft(p, false);
    }
  }

  /** Removes a TCP flow and its UFT entries. */
  removeTcp(f: TcpFlow): void {
    if (!f.live) return;
    f.live = false;
    if (f.idx >= 0 && this.tcp.valueAt(f.idx) === f) this.tcp.deleteAt(f.idx);
    const eo = f.uft[DIR_OUT], ei = f.uft[DIR_IN];
    if (eo !== null) this.removeUft(eo, false);
    if (ei !== null) this.removeUft(ei, false);
  }

  /** Kills an LFT pair: both entries go, the desc's resource is released (exactly once). */
  killPair(L: Layer, p: LftPair): void {
    if (!p.live) return;
    p.live = false;
    const [to, ti] = L.lft;
    if (p.outIdx >= 0 && to.valueAt(p.outIdx) === p) to.deleteAt(p.outIdx);
    if (p.inIdx >= 0 && ti.valueAt(p.inIdx) === p) ti.deleteAt(p.inIdx);
    // UFT entries built through the pair die with it (those with `touch` notice on their own).
    if (p.u0 !== null) this.removeUft(p.u0, false);
    if (p.u1 !== null) this.removeUft(p.u1, false);
    L.stats.releases++;
    p.desc.release?.();
  }

  /**
   * True when a pair is past its life: idle past the flow TTL and, for TCP, its connection gone
   * or expired too. As upstream's LFT entries, a pair outlives a half-open TCP flow that expired
   * (5 s), so a slow SYN-ACK still finds the firewall's pair; a live connection keeps it longer.
   */
  pairExpired(p: LftPair, now: number): boolean {
    if (now - pairLastHit(p) <= this.flowTtl) return false;
    const tf = p.tcp;
    return tf === null || !tf.live || now - tf.lastHit > tcpTtl(tf.state, this.tcpTtls);
  }

  /** True when a TCP flow outlived its state's TTL. */
  tcpExpired(f: TcpFlow, now: number): boolean {
    return now - f.lastHit > tcpTtl(f.state, this.tcpTtls);
  }

  /** Removes everything unusable or idle past its TTL, releasing resources; returns the count. */
  expire(now: number): number {
    let n = 0;
    for (const f of this.tcp.values()) {
      if (this.tcpExpired(f, now)) {
        this.removeTcp(f);
        this.stats.tcpExpired++;
        n++;
      }
    }
    for (const t of this.uft) {
      for (const e of t.values()) {
        if (!this.usable(e, now)) {
          this.removeUft(e, false);
          this.stats.uftExpired++;
          n++;
        }
      }
    }
    for (const L of this.layers) {
      for (const p of L.lft[DIR_OUT].values()) {
        if (this.pairExpired(p, now)) {
          this.killPair(L, p);
          L.stats.lftExpired++;
          n++;
        }
      }
    }
    return n;
  }

  /** Wipes UFT, TCP and every LFT (releasing resources). Bumps the epoch. */
  clear(): void {
    for (const t of this.uft) {
      for (const e of t.values()) e.live = false;
      t.clear();
    }
    for (const f of this.tcp.values()) f.live = false;
    this.tcp.clear();
    for (const L of this.layers) this.clearLayer(L);
    this.fruitlessScan.clear();
    this.epoch++;
  }

  /** Kills every LFT pair of one layer (releasing resources). */
  clearLayer(L: Layer): void {
    for (const p of L.lft[DIR_OUT].values()) this.killPair(L, p);
    for (const p of L.lft[DIR_IN].values()) this.killPair(L, p);
  }
}
