// What datapath workers share when `datapath.workers` > 1 (README "Several workers"): the queue
// fds of multi-queue TAPs that worker 0 creates and hands to the others, the replay of a change
// batch on those others, and the underlay neighbours one worker learned and the rest adopt.

import type { Change, PortSpec } from "../config/resources.ts";
import { canonical } from "../config/resources.ts";
import { NEIGH_REACHABLE } from "../switch/neighbor.ts";
import type { Switch } from "../switch/switch.ts";
import type { ApplyResult, WireError } from "./protocol.ts";
import type { SwitchDatapath } from "./runtime.ts";

/** A port worker 0 (re)created in a batch: its spec and the queue fd of each other worker. */
export interface CreatedPort {
  spec: PortSpec;
  /** fds[k - 1] is worker k's queue. */
  fds: number[];
}

/** Queue fds moving from the worker that creates TAPs to the workers that adopt them. */
export class QueueHandoff {
  private readonly pending = new Map<string, CreatedPort>();
  private readonly given = new Map<string, number>();

  /** `closeFd`: libc close (passed in so memory-only code never loads FFI). */
  constructor(private readonly closeFd: (fd: number) => void) {}

  /** Worker 0: a port's device was created with these extra queues. */
  put(spec: PortSpec, fds: number[]): void {
    this.drop(spec.name);
    this.pending.set(spec.name, { spec, fds });
  }

  /** Worker 0: the port went before its queues were handed over; closes them. */
  drop(port: string): void {
    for (const fd of this.pending.get(port)?.fds ?? []) this.closeFd(fd);
    this.pending.delete(port);
  }

  /** Worker 0: every port created since the last call (the other workers now own the fds). */
  take(): Record<string, CreatedPort> {
    const out = Object.fromEntries(this.pending);
    this.pending.clear();
    return out;
  }

  /** Worker k: the queue fd of each port about to be (re)created here. */
  give(fds: Record<string, number>): void {
    for (const [port, fd] of Object.entries(fds)) this.given.set(port, fd);
  }

  /** Worker k: takes the queue handed over for `port`. */
  adopt(port: string): number {
    const fd = this.given.get(port);
    if (fd === undefined) throw new Error(`no TAP queue handed over for port ${port}`);
    this.given.delete(port);
    return fd;
  }
}

/**
 * Worker k, before worker 0 applies `changes`: removes the ports they delete or redefine, so
 * their devices are gone (every queue closed) before worker 0 creates one of the same name.
 */
export function releasePorts(dp: SwitchDatapath, changes: Change[]): void {
  for (const c of changes) {
    if (c.kind !== "port") continue;
    const live = dp.portSpec(c.key);
    if (live && (c.value === null || canonical(live) !== canonical(c.value))) {
      dp.applyNow({ kind: "port", key: c.key, value: null });
    }
  }
}

/**
 * Worker k, after worker 0: applies what worker 0 applied. Ports follow worker 0's devices
 * (`created`, including a port it restored after a refused update); other changes are applied
 * when worker 0 applied them. Returns one error per change that failed here only.
 */
export function replayChanges(
  dp: SwitchDatapath,
  changes: Change[],
  results: ApplyResult[],
  created: Record<string, PortSpec>,
): ApplyResult[] {
  const done = new Set<string>();
  return changes.map((c, i): WireError | null => {
    try {
      if (c.kind !== "port") {
        if (results[i] === null) dp.applyNow(c);
        return null;
      }
      const spec = created[c.key];
      if (spec === undefined || done.has(c.key)) return null;
      done.add(c.key);
      if (dp.portSpec(c.key)) dp.applyNow({ kind: "port", key: c.key, value: null });
      dp.applyNow({ kind: "port", key: c.key, value: spec });
      return null;
    } catch (e) {
      return { field: `${c.kind}.${c.key}`, reason: e instanceof Error ? e.message : String(e) };
    }
  });
}

/** A reachable underlay neighbour, as one worker relays it to the others. */
export interface NeighbourRow {
  link: string;
  addr: Uint8Array;
  mac: Uint8Array;
}

/** The reachable neighbours of `sw`'s underlay links. */
export function reachableNeighbours(sw: Switch): NeighbourRow[] {
  const out: NeighbourRow[] = [];
  for (const u of sw.underlay) {
    for (const n of u.neighbors.list) {
      if (n.state === NEIGH_REACHABLE && n.hasMac) {
        out.push({ link: u.link.name, addr: n.addr.slice(), mac: n.mac.slice() });
      }
    }
  }
  return out;
}

/**
 * Confirms neighbours another worker learned: the fanout hands each NA to one worker only, so
 * the others would never see an answer to their own solicitations. Only entries this switch
 * already wants are touched.
 */
export function adoptNeighbours(sw: Switch, rows: NeighbourRow[]): void {
  const b = new Uint8Array(22);
  let changed = false;
  for (const r of rows) {
    const u = sw.underlay.find((x) => x.link.name === r.link);
    if (!u) continue;
    b.set(r.addr, 0);
    b.set(r.mac, 16);
    if (u.neighbors.advert(b, 0, 16, true, true, sw.now)) changed = true;
  }
  if (changed) sw.routes.refresh();
}
