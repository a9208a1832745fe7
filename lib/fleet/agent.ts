// Fleet mode: this sled publishes what it owns to etcd under a lease and applies everyone's V2P,
// V2B, M2P and multicast forwarding from a watch, through the admin control plane's change path.
// The datapath never waits on etcd: when etcd is unreachable the sled forwards on the last known
// state (persisted in the state dir, so a restart during an outage keeps forwarding) and reports
// `fleet: degraded` with the duration.

import { getLogger } from "@logtape/logtape";
import type { Control } from "../admin/control.ts";
import type { CounterSample } from "../contract/datapath.ts";
import type { FleetView } from "../admin/fleet_view.ts";
import type { FleetConfig } from "../config/fleet.ts";
import { EtcdClient } from "./etcd.ts";
import { publications } from "./keys.ts";
import { deriveForwarding } from "./mcast.ts";
import { KeptLease } from "./lease.ts";
import { Publisher } from "./publish.ts";
import { FleetStore } from "./store.ts";
import { type FleetTarget, Syncer } from "./sync.ts";

const log = getLogger(["xdeno", "fleet"]);

/** What the agent needs besides the fleet config. */
export interface AgentOptions {
  /** This sled's underlay address (the `underlay` of its published V2P entries). */
  underlay: string;
  /** State dir for fleet.json (null: nothing persisted, e.g. the benchmark). */
  stateDir: string | null;
}

/** The etcd client a fleet config describes (TLS files read now; a missing one names its field). */
export async function etcdClient(cfg: FleetConfig): Promise<EtcdClient> {
  const tls = cfg.etcd.tls;
  const read = async (field: string, f?: string) => {
    if (f === undefined) return undefined;
    try {
      return await Deno.readTextFile(f);
    } catch (e) {
      throw new Error(`fleet.etcd.tls.${field}: cannot read ${f} (${(e as Error).message})`);
    }
  };
  const pem = tls
    ? {
      ca: (await read("ca", tls.ca))!,
      cert: await read("cert", tls.cert),
      key: await read("key", tls.key),
    }
    : undefined;
  try {
    return new EtcdClient({
      endpoints: cfg.etcd.endpoints,
      dialTimeoutMs: cfg.etcd.dialTimeoutMs,
      tls: pem,
    });
  } catch (e) {
    // Deno refuses a file that is not PEM of the right kind.
    throw new Error(`fleet.etcd.tls: ${(e as Error).message} (ca, cert and key are PEM files)`);
  }
}

/** One sled's fleet agent. */
export class FleetAgent implements FleetView {
  readonly publisher: Publisher;
  readonly sync: Syncer;
  private lease: KeptLease | null = null;
  private keepaliveOk = false;
  private degradedSince: number | null = Date.now();
  private readonly startedAt = Date.now();
  private closed = false;
  private timer: ReturnType<typeof setInterval> | null = null;

  private constructor(
    readonly cfg: FleetConfig,
    readonly client: EtcdClient,
    readonly ctl: Pick<Control, "state" | "listeners"> & FleetTarget,
    readonly opts: AgentOptions,
  ) {
    const prefix = cfg.etcd.prefix;
    this.publisher = new Publisher(
      client,
      cfg.sledId,
      () => publications(prefix, cfg.sledId, opts.underlay, ctl.state),
      (e) => log.warning("fleet: publishing failed ({error}); retrying", { error: String(e) }),
    );
    this.sync = new Syncer(
      client,
      prefix,
      ctl,
      opts.stateDir === null ? null : new FleetStore(opts.stateDir),
      cfg.sledId,
      (k, v) => this.publisher.seen(k, v),
      () => this.stateChanged(),
    );
    this.sync.derive = () =>
      deriveForwarding(
        prefix,
        cfg.sledId,
        this.sync.others,
        ctl.state.m2p.values(),
        (u) => this.sync.known.has(`${prefix}/mcast/${u}`),
      );
  }

  /**
   * Builds the agent and seeds `ctl` with the persisted fleet state; call before `ctl.start()`
   * so the datapath starts with it.
   */
  static async prepare(
    cfg: FleetConfig,
    ctl: Control | (Pick<Control, "state" | "listeners"> & FleetTarget),
    opts: AgentOptions,
  ): Promise<FleetAgent> {
    const agent = new FleetAgent(cfg, await etcdClient(cfg), ctl, opts);
    if (opts.stateDir !== null) {
      const snap = await new FleetStore(opts.stateDir).load(cfg.sledId);
      if (snap) {
        agent.sync.restore(snap.revision, snap.entries);
        if ("seedFleet" in ctl) ctl.seedFleet(snap.entries.map(([, c]) => c));
        log.info("fleet: {count} entries from {dir} (revision {revision})", {
          count: snap.entries.length,
          dir: opts.stateDir,
          revision: snap.revision,
        });
      }
    }
    if ("fleet" in ctl) ctl.fleet = agent;
    return agent;
  }

  /** Connects in the background: lease + publishing, resync + watch. Returns at once. */
  start(): void {
    this.ctl.listeners.push(() => {
      this.publisher.kick();
      this.sync.refresh(); // a local M2P change moves derived forwarding
    });
    this.sync.run();
    this.leaseLoop();
    // Contested claims are retried on the holder's delete; this catches anything missed.
    this.timer = setInterval(() => {
      if (this.publisher.conflicts.size > 0) this.publisher.kick();
    }, this.cfg.leaseTtlSeconds * 1000);
  }

  private async leaseLoop(): Promise<void> {
    let backoff = 250;
    while (!this.closed) {
      const lease = new KeptLease(this.client, this.cfg.leaseTtlSeconds, {
        keepalive: (ok) => this.setKeepalive(ok),
      });
      try {
        const id = await lease.grant();
        this.lease = lease;
        this.setKeepalive(true);
        backoff = 250;
        log.info("fleet: lease {id} ({ttl} s) granted to sled {sled}", {
          id,
          ttl: this.cfg.leaseTtlSeconds,
          sled: this.cfg.sledId,
        });
        this.publisher.setLease(id);
        await lease.lost;
        if (this.closed) return;
        log.warning("fleet: lease {id} lost; publishing again under a new one", { id });
      } catch (e) {
        if (this.closed) return;
        log.warning("fleet: cannot get a lease ({error})", { error: (e as Error).message });
      }
      lease.release();
      this.lease = null;
      this.publisher.setLease(null);
      this.setKeepalive(false);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  private setKeepalive(ok: boolean): void {
    if (this.keepaliveOk === ok) return;
    this.keepaliveOk = ok;
    this.stateChanged();
  }

  private stateChanged(): void {
    const ok = this.sync.connected && this.keepaliveOk;
    if (ok && this.degradedSince !== null) {
      log.info("fleet: connected (revision {revision})", { revision: this.sync.revision });
      this.degradedSince = null;
    } else if (!ok && this.degradedSince === null) {
      log.warning("fleet: degraded: etcd unreachable; forwarding on the last known state");
      this.degradedSince = Date.now();
    }
  }

  /** `/healthz` detail. */
  health(): Record<string, unknown> {
    const h: Record<string, unknown> = {
      state: this.degradedSince === null ? "ok" : "degraded",
      revision: this.sync.revision,
    };
    if (this.degradedSince !== null) {
      h.degradedSince = new Date(this.degradedSince).toISOString();
      h.degradedForMs = Date.now() - this.degradedSince;
    }
    if (this.publisher.conflicts.size > 0) {
      h.conflicts = [...this.publisher.conflicts.values()].map((c) => ({
        entry: c.what,
        holder: c.holder,
      }));
    }
    return h;
  }

  /** `GET /v1/fleet`. */
  status(): Record<string, unknown> {
    const sleds = [...this.sync.others.keys()]
      .filter((k) => k.startsWith(`${this.cfg.etcd.prefix}/sleds/`))
      .map((k) => k.slice(this.cfg.etcd.prefix.length + 7));
    return {
      sledId: this.cfg.sledId,
      endpoints: this.cfg.etcd.endpoints,
      prefix: this.cfg.etcd.prefix,
      ...this.health(),
      headRevision: this.sync.headRevision,
      lease: this.publisher.leaseId,
      leaseTtlSeconds: this.cfg.leaseTtlSeconds,
      published: [...this.publisher.held.keys()].sort(),
      conflicts: [...this.publisher.conflicts.values()],
      shadowed: Object.fromEntries(this.sync.shadowed),
      entries: this.sync.known.size,
      sleds: sleds.sort(),
      counters: { ...this.sync.counters, claimConflicts: this.publisher.conflictsTotal },
      uptimeMs: Date.now() - this.startedAt,
    };
  }

  /** `/metrics` samples. */
  samples(): CounterSample[] {
    const c = this.sync.counters;
    const g = (name: string, help: string, value: number, labels = {}): CounterSample => ({
      name: `xdeno_fleet_${name}`,
      help,
      type: "gauge",
      labels,
      value,
    });
    const n = (name: string, help: string, value: number, labels = {}): CounterSample => ({
      ...g(name, help, value, labels),
      type: "counter",
    });
    return [
      g("degraded", "1 while etcd is unreachable", this.degradedSince === null ? 0 : 1),
      g(
        "degraded_seconds",
        "how long the fleet connection has been degraded",
        this.degradedSince === null ? 0 : (Date.now() - this.degradedSince) / 1000,
      ),
      g("revision", "etcd revision of the last applied fleet event", this.sync.revision),
      g(
        "revision_lag",
        "newest etcd revision seen minus the last applied one",
        Math.max(0, this.sync.headRevision - this.sync.revision),
      ),
      g("entries", "fleet entries in effect", this.sync.known.size),
      g("published", "entries this sled holds in etcd", this.publisher.held.size),
      n("watch_reconnects_total", "watch streams re-established", c.watchReconnects),
      n("resyncs_total", "full reads of the fleet state", c.resyncs),
      n("applied_total", "fleet changes applied to the datapath", c.applied),
      n("rejected_total", "fleet changes the datapath refused", c.rejected),
      n("bad_entries_total", "fleet entries that failed validation", c.badEntries),
      n("apply_seconds_sum", "time applying fleet batches", c.applySecondsSum),
      n("apply_seconds_count", "fleet batches applied", c.applyBatches),
      g("apply_seconds_max", "slowest fleet batch", c.applySecondsMax),
      g("conflicts", "(VNI, IP) this sled wants but another holds", this.publisher.conflicts.size, {
        kind: "sled",
      }),
      n("conflicts_total", "conflicts seen", this.publisher.conflictsTotal, { kind: "sled" }),
      g("conflicts", "fleet entries a local one shadows", this.sync.shadowed.size, {
        kind: "local",
      }),
      n("conflicts_total", "conflicts seen", c.localConflicts, { kind: "local" }),
    ];
  }

  /** Clean stop: revoke the lease (our entries go at once), stop watching, persist. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    const lease = this.lease;
    this.lease = null;
    this.publisher.setLease(null);
    await Promise.race([
      lease?.revoke().catch(() => {}),
      new Promise((r) => setTimeout(r, this.cfg.etcd.dialTimeoutMs)),
    ]);
    await this.sync.close();
    this.client.close();
  }
}
