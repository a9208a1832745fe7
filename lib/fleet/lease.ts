// A lease kept alive: granted once, refreshed every third of its TTL. A refresh that fails
// reports "not ok" (the agent shows `fleet: degraded`); the lease is lost when etcd answers that
// it no longer has it, or when no refresh succeeded for a whole TTL (etcd has expired it then).

import type { EtcdClient } from "./etcd.ts";

/** What the owner of a lease is told. */
export interface LeaseHandlers {
  /** A refresh succeeded (true) or failed (false). */
  keepalive(ok: boolean): void;
}

/** One lease and its keepalive loop. */
export class KeptLease {
  id: string | null = null;
  /** Resolves when the lease is lost (or released). */
  readonly lost: Promise<void>;
  private markLost!: () => void;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastOk = 0;
  private released = false;

  constructor(
    private readonly client: EtcdClient,
    readonly ttlSeconds: number,
    private readonly h: LeaseHandlers,
  ) {
    this.lost = new Promise((r) => this.markLost = r);
  }

  /** Grants the lease and starts refreshing it; its id. */
  async grant(): Promise<string> {
    const id = await this.client.grant(this.ttlSeconds);
    this.id = id;
    this.lastOk = Date.now();
    this.schedule();
    return id;
  }

  private schedule(): void {
    if (this.released) return;
    this.timer = setTimeout(() => this.refresh(), Math.max(500, (this.ttlSeconds * 1000) / 3));
  }

  private async refresh(): Promise<void> {
    this.timer = null;
    try {
      const ttl = await this.client.keepAlive(this.id!);
      if (this.released) return;
      if (ttl <= 0) return this.release();
      this.lastOk = Date.now();
      this.h.keepalive(true);
    } catch {
      if (this.released) return;
      this.h.keepalive(false);
      if (Date.now() - this.lastOk > this.ttlSeconds * 1000) return this.release();
    }
    this.schedule();
  }

  /** Stops refreshing (the lease then expires in etcd). */
  release(): void {
    this.released = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.markLost();
  }

  /** Revokes it now: every key attached goes at once. */
  async revoke(): Promise<void> {
    this.release();
    if (this.id !== null) await this.client.revoke(this.id);
  }
}
