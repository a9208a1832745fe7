// Publishes what this sled owns under its lease: the V2P of each local overlay port (claimed with
// a compare-and-swap on create, so of two sleds claiming one (VNI, IP) exactly one holds it),
// its ports' multicast subscriptions and its presence. Reconciles the desired set against what it
// holds whenever the local state changes, the lease is (re)granted, or a contested key frees up.

import type { EtcdClient, Op } from "./etcd.ts";
import { getLogger } from "@logtape/logtape";
import type { Publication } from "./keys.ts";

const log = getLogger(["xdeno", "fleet"]);
/** Pause before retrying a failed reconcile. */
const RETRY_MS = 1000;

/** A (VNI, IP) another sled holds although this sled wants it. */
export interface ClaimConflict {
  key: string;
  what: string;
  holder: string;
}

/** The publishing half of the fleet agent. */
export class Publisher {
  /** etcd key → value published under the current lease. */
  readonly held = new Map<string, string>();
  readonly conflicts = new Map<string, ClaimConflict>();
  conflictsTotal = 0;
  errors = 0;
  leaseId: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private retry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: EtcdClient,
    readonly sledId: string,
    private readonly want: () => Map<string, Publication>,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** A new lease: everything must be published again under it (null: stop publishing). */
  setLease(id: string | null): void {
    this.leaseId = id;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.held.clear();
    if (id !== null) this.kick();
  }

  /** A watched key changed: if it is one we hold and not our value, or one we want and it went, claim again. */
  seen(key: string, value: string | null): void {
    const mine = this.held.get(key);
    if (mine !== undefined && mine !== value) {
      this.held.delete(key);
      this.kick();
    } else if (value === null && this.conflicts.has(key)) this.kick();
  }

  /** Schedules a reconcile (coalesced: at most one running and one pending). */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (e) {
          this.errors++;
          this.onError(e);
          // etcd unreachable or the lease gone: try again later (a new lease also kicks).
          if (this.leaseId !== null && this.retry === null) {
            this.retry = setTimeout(() => {
              this.retry = null;
              this.kick();
            }, RETRY_MS);
          }
        }
      } while (this.again && this.leaseId !== null);
      this.running = null;
    })();
    return this.running;
  }

  private async reconcile(): Promise<void> {
    const lease = this.leaseId;
    if (lease === null) return;
    const want = this.want();
    for (const key of [...this.held.keys()]) {
      if (want.has(key)) continue;
      await this.client.txn([{ key, target: "LEASE", value: lease }], [{ delete: { key } }]);
      this.held.delete(key);
    }
    for (const key of [...this.conflicts.keys()]) {
      if (!want.has(key)) this.conflicts.delete(key);
    }
    for (const p of want.values()) {
      if (this.leaseId !== lease) return;
      if (this.held.get(p.key) === p.value) continue;
      await this.claim(p, lease);
    }
  }

  private async claim(p: Publication, lease: string): Promise<void> {
    const put: Op = { put: { key: p.key, value: p.value, lease } };
    if (!p.exclusive) {
      await this.client.put(p.key, p.value, lease);
      this.held.set(p.key, p.value);
      return;
    }
    const r = await this.client.txn([{ key: p.key, target: "CREATE", value: 0 }], [put], [
      { get: { key: p.key } },
    ]);
    if (r.succeeded) return this.won(p);
    const kv = r.responses[0]?.kvs[0];
    if (!kv) { // deleted in between: try again
      this.again = true;
      return;
    }
    const holder = holderOf(kv.value);
    if (holder === this.sledId) {
      // Ours from an earlier lease (a restart): move it to this lease without a gap.
      const cas = await this.client.txn([{ key: p.key, target: "MOD", value: kv.modRevision }], [
        put,
      ]);
      if (cas.succeeded) return this.won(p);
      this.again = true;
      return;
    }
    if (!this.conflicts.has(p.key)) {
      this.conflictsTotal++;
      log.warning("fleet: {what} is held by sled {holder}; not published by this sled", {
        what: p.what,
        holder,
      });
    }
    this.conflicts.set(p.key, { key: p.key, what: p.what, holder });
  }

  private won(p: Publication): void {
    this.held.set(p.key, p.value);
    if (this.conflicts.delete(p.key)) {
      log.info("fleet: {what} claimed after its holder released it", { what: p.what });
    }
  }
}

function holderOf(value: string): string {
  try {
    const s = (JSON.parse(value) as { sled?: unknown }).sled;
    return typeof s === "string" ? s : "(unknown)";
  } catch {
    return "(unknown)";
  }
}
