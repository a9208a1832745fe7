// Keeps the sled's fleet layer equal to the fleet's entries in etcd: a full read (resync) when it
// has no usable revision, then a watch from the last applied revision. Reconnects resume from that
// revision; a compacted one triggers a resync that applies only the difference. Every batch goes
// through Control.applyFleet (the admin API's change path) and is persisted, debounced.

import type { EtcdClient } from "./etcd.ts";
import type { EtcdWatch } from "./etcd_watch.ts";
import { getLogger } from "@logtape/logtape";
import type { Change } from "../config/resources.ts";
import type { FleetApplied } from "../admin/fleet_view.ts";
import { canonical } from "../config/resources.ts";
import { decodeEntry } from "./keys.ts";
import { DERIVED } from "./mcast.ts";
import type { FleetStore } from "./store.ts";

const log = getLogger(["xdeno", "fleet"]);
/** Keys per range request of a resync. */
const PAGE = 2000;
/** Persisting waits this long to batch a burst of changes (one file write per burst). */
const PERSIST_MS = 500;

/** Where fleet changes go (Control in the service and the benchmark). */
export interface FleetTarget {
  applyFleet(changes: readonly Change[]): Promise<FleetApplied[]>;
}

/** Counters of the sync half. */
export interface SyncCounters {
  watchReconnects: number;
  resyncs: number;
  applied: number;
  rejected: number;
  localConflicts: number;
  badEntries: number;
  applySecondsSum: number;
  applyBatches: number;
  applySecondsMax: number;
}

/** The watching half of the fleet agent. */
export class Syncer {
  /** etcd key → the change its entry made (what the fleet layer holds). */
  readonly known = new Map<string, Change>();
  /** Entries a local one shadows: etcd key → why. */
  readonly shadowed = new Map<string, string>();
  /** Other keys under the prefix (presence, subscriptions): key → value. */
  readonly others = new Map<string, string>();
  /** Revision of the last applied event. */
  revision = 0;
  /** Newest store revision seen in a response. */
  headRevision = 0;
  connected = false;
  readonly counters: SyncCounters = {
    watchReconnects: 0,
    resyncs: 0,
    applied: 0,
    rejected: 0,
    localConflicts: 0,
    badEntries: 0,
    applySecondsSum: 0,
    applyBatches: 0,
    applySecondsMax: 0,
  };
  /** The derived entries wanted now (multicast forwarding from subscriptions; null: none). */
  derive: (() => Map<string, Change>) | null = null;
  private watcher: EtcdWatch | null = null;
  private chain: Promise<void> = Promise.resolve();
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  private everConnected = false;
  private closed = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly prefix: string,
    private readonly target: FleetTarget,
    private readonly store: FleetStore | null,
    private readonly sledId: string,
    /** Called for every key whose entry changed or went (the publisher re-claims its own). */
    private readonly onKey: (key: string, value: string | null) => void,
    private readonly onState: () => void,
  ) {}

  /** Starts from a persisted snapshot (entries already seeded into the target). */
  restore(revision: number, entries: [string, Change][]): void {
    this.revision = revision;
    for (const [k, c] of entries) this.known.set(k, c);
  }

  /** Connects: resync if needed, then watch; retries until closed. Never throws. */
  async run(): Promise<void> {
    let backoff = 250;
    while (!this.closed && this.watcher === null) {
      try {
        if (this.revision === 0) await this.resync();
        this.watch();
        return;
      } catch (e) {
        this.setConnected(false);
        const msg = (e as Error).message;
        if (/compacted/i.test(msg)) {
          log.warning("fleet: revision {revision} was compacted; resyncing", {
            revision: this.revision,
          });
          this.revision = 0;
          continue;
        }
        log.warning("fleet: etcd not reachable ({error}); forwarding on the last known state", {
          error: msg,
        });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /**
   * Reads the whole prefix (in pages, all at one revision, so no response outgrows gRPC's 4 MiB)
   * and applies only what differs from the known state.
   */
  async resync(): Promise<void> {
    const end = this.prefix + "0"; // "/" + 1: the end of the range `prefix/…`
    let start = this.prefix + "/", rev: number | null = null;
    const seen = new Set<string>();
    const batch: [string, string | null][] = [];
    for (;;) {
      const res = await this.client.range(start, { end, limit: PAGE, revision: rev ?? undefined });
      rev ??= res.revision;
      for (const kv of res.kvs) {
        seen.add(kv.key);
        batch.push([kv.key, kv.value]);
      }
      if (!res.more || res.kvs.length === 0) break;
      start = res.kvs[res.kvs.length - 1].key + "\0";
    }
    for (const key of [...this.known.keys(), ...this.others.keys()]) {
      if (!seen.has(key) && !key.startsWith(this.derivedPrefix)) batch.push([key, null]);
    }
    this.counters.resyncs++;
    await this.enqueue(batch, rev, rev, true);
    this.setConnected(true);
  }

  private watch(): void {
    this.watcher = this.client.watch(this.prefix + "/", this.prefix + "0", this.revision + 1, {
      state: (up) => {
        if (up && this.everConnected) this.counters.watchReconnects++;
        if (up) this.everConnected = true;
        this.setConnected(up);
      },
      events: (events, head) => {
        // Seen now, applied when its turn in the queue comes: the difference is the revision lag.
        this.headRevision = Math.max(this.headRevision, head);
        const batch: [string, string | null][] = [];
        let last = this.revision;
        for (const ev of events) {
          batch.push([ev.kv.key, ev.type === "delete" ? null : ev.kv.value]);
          last = Math.max(last, ev.kv.modRevision);
        }
        this.enqueue(batch, last, head, false);
      },
      compacted: (compact) => {
        log.warning("fleet: revision {revision} was compacted (to {compact}); resyncing", {
          revision: this.revision,
          compact,
        });
        this.watcher = null;
        this.revision = 0;
        if (!this.closed) this.chain.then(() => this.run());
      },
    });
  }

  /** Applies batches one after another, in revision order. */
  private enqueue(
    batch: [string, string | null][],
    revision: number,
    head: number,
    full: boolean,
  ): Promise<void> {
    const run = this.chain.then(() => this.apply(batch, revision, head, full));
    this.chain = run.catch((e) => log.error("fleet: apply failed: {error}", { error: String(e) }));
    return run;
  }

  private async apply(
    batch: [string, string | null][],
    revision: number,
    head: number,
    full: boolean,
  ): Promise<void> {
    const t0 = performance.now();
    // Last event per key wins within one batch.
    const last = new Map<string, string | null>();
    for (const [k, v] of batch) {
      last.delete(k);
      last.set(k, v);
    }
    const keys: string[] = [], changes: Change[] = [];
    for (const [key, value] of last) {
      this.onKey(key, value);
      const d = decodeEntry(this.prefix, key, value);
      if (d.ok === "other") {
        if (value === null) this.others.delete(key);
        else this.others.set(key, value);
        continue;
      }
      if (d.ok === false) {
        this.counters.badEntries++;
        log.warning("fleet: ignoring entry {error}", { error: d.error });
        continue;
      }
      const old = this.known.get(key);
      if (full && old && canonical(old) === canonical(d.change)) continue;
      if (d.change.value === null && !old) continue;
      keys.push(key);
      changes.push(d.change);
    }
    const results = changes.length ? await this.target.applyFleet(changes) : [];
    results.forEach((r, i) => this.record(keys[i], r));
    // Derivation reads every subscription: only when one, or a mapping it uses, moved.
    const multicast = ["sub", "m2p", "mcast"].map((k) => `${this.prefix}/${k}/`);
    if ([...last.keys()].some((k) => multicast.some((m) => k.startsWith(m)))) await this.rederive();
    this.revision = Math.max(this.revision, revision);
    this.headRevision = Math.max(this.headRevision, head, this.revision);
    const s = (performance.now() - t0) / 1000;
    if (changes.length) {
      this.counters.applySecondsSum += s;
      this.counters.applyBatches++;
      this.counters.applySecondsMax = Math.max(this.counters.applySecondsMax, s);
    }
    this.schedulePersist();
  }

  private get derivedPrefix(): string {
    return `${this.prefix}/${DERIVED}`;
  }

  /** Derives again after a local change (queued behind the batches being applied). */
  refresh(): Promise<void> {
    const run = this.chain.then(() => this.rederive());
    this.chain = run.catch((e) => log.error("fleet: derive failed: {error}", { error: String(e) }));
    return run;
  }

  /** Applies the difference between the derived entries wanted and those in effect. */
  private async rederive(): Promise<void> {
    if (this.derive === null) return;
    const want = this.derive();
    const keys: string[] = [], changes: Change[] = [];
    for (const [k, c] of this.known) {
      if (!k.startsWith(this.derivedPrefix) || want.has(k)) continue;
      // An explicit entry of the same group replaced it in the control plane already.
      if (this.known.has(`${this.prefix}/mcast/${c.key}`)) this.known.delete(k);
      else keys.push(k), changes.push({ ...c, value: null } as Change);
    }
    for (const [k, c] of want) {
      const old = this.known.get(k);
      if (old === undefined || canonical(old) !== canonical(c)) keys.push(k), changes.push(c);
    }
    if (changes.length === 0) return;
    const results = await this.target.applyFleet(changes);
    results.forEach((r, i) => this.record(keys[i], r));
    this.schedulePersist();
  }

  private record(key: string, r: FleetApplied): void {
    const c = r.change;
    if (r.outcome === "rejected") {
      this.counters.rejected++;
      log.warning("fleet: {key} refused: {reason}", { key, reason: r.reason });
      return;
    }
    if (c.value === null) this.known.delete(key);
    else this.known.set(key, c);
    if (r.outcome === "applied") this.counters.applied++;
    if (r.outcome === "shadowed") {
      if (!this.shadowed.has(key)) {
        this.counters.localConflicts++;
        log.warning("fleet: {key} differs from the local {kind} {k}; the local entry wins", {
          key,
          kind: c.kind,
          k: c.key,
        });
      }
      this.shadowed.set(key, `local ${c.kind} ${c.key} wins`);
    } else this.shadowed.delete(key);
  }

  private schedulePersist(): void {
    if (!this.store || this.persistTimer !== null) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.persist().catch((e) =>
        log.error("fleet: cannot persist the fleet state: {error}", { error: String(e) })
      );
    }, PERSIST_MS);
  }

  /** Writes the known state now. */
  async persist(): Promise<void> {
    await this.store?.save({
      sledId: this.sledId,
      revision: this.revision,
      leaseId: null,
      entries: [...this.known],
    });
  }

  private setConnected(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    this.onState();
  }

  /** Stops watching and writes the state a last time. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.watcher;
    this.watcher = null;
    if (this.persistTimer !== null) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    await this.chain;
    w?.cancel();
    await this.persist().catch(() => {});
  }
}
