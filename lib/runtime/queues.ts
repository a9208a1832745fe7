// What datapath workers share when `datapath.workers` > 1 (README "Several workers"): the queue
// fds of multi-queue TAPs that worker 0 creates and hands to the others, the replay of a change
// batch on those others, and the underlay neighbours one worker learned and the rest adopt.

import type { Change, PortSpec } from "../config/resources.ts";
import type { FrameBatch, Link, LinkStats } from "../link/link.ts";
import { canonical } from "../config/resources.ts";
import { NEIGH_REACHABLE, type Neighbor } from "../switch/neighbor.ts";
import type { Switch } from "../switch/switch.ts";
import type { ApplyResult, WireError } from "./protocol.ts";
import type { SwitchDatapath } from "./runtime.ts";

/** A port worker 0 (re)created in a batch: its spec and the queue fd of each other worker. */
export interface CreatedPort {
  spec: PortSpec;
  /** fds[k - 1] is worker k's queue (empty: the port lives on worker 0 only). */
  fds: number[];
  /** A VPC port: one queue that worker 0 alone reads; the fds are duplicates to write into. */
  pinned: boolean;
}

/** What worker k gets for one port: its fd, and whether it may only write into it. */
export interface HandedQueue {
  fd: number;
  pinned: boolean;
}

/** Queue fds moving from the worker that creates TAPs to the workers that adopt them. */
export class QueueHandoff {
  private readonly pending = new Map<string, CreatedPort>();
  private readonly given = new Map<string, HandedQueue>();

  /** `closeFd`: libc close (passed in so memory-only code never loads FFI). */
  constructor(private readonly closeFd: (fd: number) => void) {}

  /** Worker 0: a port's device was created with these extra queues (or fd duplicates). */
  put(spec: PortSpec, fds: number[], pinned: boolean): void {
    this.drop(spec.name);
    this.pending.set(spec.name, { spec, fds, pinned });
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

  /** Worker k: the queue of each port about to be (re)created here. */
  give(fds: Record<string, HandedQueue>): void {
    for (const [port, q] of Object.entries(fds)) this.given.set(port, q);
  }

  /** Worker k: takes the queue handed over for `port`. */
  adopt(port: string): HandedQueue {
    const q = this.given.get(port);
    if (q === undefined) throw new Error(`no TAP queue handed over for port ${port}`);
    this.given.delete(port);
    return q;
  }
}

const PORT_TABLES = new Set(["firewall", "router", "externalIps", "subnets", "subscription"]);

/**
 * Worker k's copy of worker 0's ports. A VPC port lives on worker 0 (its pipeline state has one
 * writer); worker k holds a system zone's VPC port without its overlay, on a queue it only
 * writes into, so it can still deliver underlay traffic to it, and holds no instance port.
 */
export class Replica {
  /** Worker 0's spec of every port it has. */
  private readonly specs = new Map<string, PortSpec>();

  constructor(private readonly dp: SwitchDatapath) {}

  /**
   * Before worker 0 applies `changes`: removes the ports they delete or redefine, so their
   * devices are gone (every queue closed) before worker 0 creates one of the same name.
   */
  release(changes: Change[]): void {
    for (const c of changes) {
      if (c.kind !== "port") continue;
      const spec = this.specs.get(c.key);
      if (spec && (c.value === null || canonical(spec) !== canonical(c.value))) {
        this.specs.delete(c.key);
        if (this.dp.portSpec(c.key)) this.dp.applyNow({ kind: "port", key: c.key, value: null });
      }
    }
  }

  /**
   * After worker 0: applies what worker 0 applied. Ports follow worker 0's devices (`created`,
   * including a port it restored after a refused update); other changes are applied when worker
   * 0 applied them and concern a port held here. Returns one error per change failed here only.
   */
  replay(
    changes: Change[],
    results: ApplyResult[],
    created: Record<string, PortSpec>,
  ): ApplyResult[] {
    const done = new Set<string>();
    return changes.map((c, i): WireError | null => {
      try {
        if (c.kind !== "port") {
          // A port's tables matter only where its pipeline runs (worker 0 for a VPC port).
          const held = !PORT_TABLES.has(c.kind) ||
            (this.dp.portSpec(c.key) !== null && !this.specs.get(c.key)?.overlay);
          if (results[i] === null && held) this.dp.applyNow(c);
          return null;
        }
        const spec = created[c.key];
        if (spec === undefined || done.has(c.key)) return null;
        done.add(c.key);
        if (this.dp.portSpec(c.key)) this.dp.applyNow({ kind: "port", key: c.key, value: null });
        this.specs.set(c.key, spec);
        if (spec.overlay && spec.kind === "instance") return null;
        const here = spec.overlay ? { ...spec, overlay: undefined } : spec;
        this.dp.applyNow({ kind: "port", key: c.key, value: here });
        return null;
      } catch (e) {
        return { field: `${c.kind}.${c.key}`, reason: e instanceof Error ? e.message : String(e) };
      }
    });
  }
}

/** A port's TAP queue that worker 0 alone reads: another worker only writes into it. */
export class SendOnlyLink implements Link {
  readonly fd = -1;
  readonly kind: string;
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly stats: LinkStats;
  /** Virtio-net headers on the fd (the switch reads this of TAP links). */
  readonly vnet: boolean;

  constructor(private readonly inner: Link & { vnet?: boolean }) {
    ({ kind: this.kind, name: this.name, mac: this.mac, mtu: this.mtu, stats: this.stats } = inner);
    this.vnet = inner.vnet === true;
  }

  /** Never reads: worker 0 owns the queue's receive side. */
  recv(batch: FrameBatch): number {
    return (batch.count = 0);
  }

  /** Writes frames [0, count) into the queue. */
  send(batch: FrameBatch, count: number): number {
    return this.inner.send(batch, count);
  }

  /** Writes one frame into the queue. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    return this.inner.sendFrame(buf, off, len);
  }

  /** The device's state as the wrapped link sees it. */
  isUp(): boolean {
    return this.inner.isUp();
  }

  /** Closes this worker's duplicate of the queue fd. */
  close(): void {
    this.inner.close();
  }
}

/** A reachable underlay neighbour, as one worker relays it to the others. */
export interface NeighbourRow {
  link: string;
  addr: Uint8Array;
  mac: Uint8Array;
}

/**
 * Shares underlay neighbours between workers: the underlay filter hands every neighbour
 * advertisement to worker 0, so the others never see an answer to their own solicitations.
 * Only what a worker's own NAs confirmed is relayed: an entry confirmed by a relay alone is not
 * passed back, so a dead neighbour cannot be kept alive by workers echoing each other.
 */
export class NeighbourShare {
  /** Entries confirmed by a relay, with the confirmation time it set. */
  private readonly adopted = new WeakMap<Neighbor, number>();

  constructor(private readonly sw: Switch) {}

  /** The reachable neighbours this worker confirmed itself. */
  own(): NeighbourRow[] {
    const out: NeighbourRow[] = [];
    for (const u of this.sw.underlay) {
      for (const n of u.neighbors.list) {
        if (n.state !== NEIGH_REACHABLE || !n.hasMac) continue;
        if (this.adopted.get(n) === n.confirmed) continue;
        out.push({ link: u.link.name, addr: n.addr.slice(), mac: n.mac.slice() });
      }
    }
    return out;
  }

  /** Confirms neighbours another worker confirmed; only entries this switch wants. */
  adopt(rows: NeighbourRow[]): void {
    const b = new Uint8Array(22);
    let changed = false;
    for (const r of rows) {
      const u = this.sw.underlay.find((x) => x.link.name === r.link);
      if (!u) continue;
      b.set(r.addr, 0);
      b.set(r.mac, 16);
      if (u.neighbors.advert(b, 0, 16, true, true, this.sw.now)) changed = true;
      const n = u.neighbors.get(b, 0);
      if (n) this.adopted.set(n, n.confirmed);
    }
    if (changed) this.sw.routes.refresh();
  }
}
