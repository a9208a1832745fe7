// Fleet scale simulation (not a timed test): N simulated sleds against a 3-member etcd cluster on
// loopback, M V2P mappings. `--full` sleds are the real thing (fleet client + admin control plane
// + memory-platform switch, applying every change through Control.applyFleet); the others are
// watch-only clients (their own etcd connection, lease with keepalive, a prefix watch, every event
// decoded and validated) so a thousand fit in one process while etcd does the full fan-out.
//   deno task bench:fleet --sleds 1000 --mappings 100000 [--full 3] [--changes 40]
// Prints p50/p99 of "one V2P change applied on every sled", a cold sled's full sync time, and
// etcd's CPU time and memory (from /proc).

import { parseArgs } from "node:util";
import { Control } from "../../lib/admin/control.ts";
import { emptyState } from "../../lib/config/resources.ts";
import { Config } from "../../lib/config/schema.ts";
import { decodeEntry } from "../../lib/fleet/keys.ts";
import { Syncer } from "../../lib/fleet/sync.ts";
import { SwitchDatapath } from "../../lib/runtime/mod.ts";
import { MemoryPlatform } from "../../lib/runtime/platform.ts";
import { EtcdClient, type Op } from "../../lib/fleet/etcd.ts";
import { KeptLease } from "../../lib/fleet/lease.ts";
import { EtcdCluster } from "./etcd.ts";

const { values: a } = parseArgs({
  options: {
    sleds: { type: "string", default: "100" },
    mappings: { type: "string", default: "10000" },
    full: { type: "string", default: "3" },
    changes: { type: "string", default: "40" },
    ttl: { type: "string", default: "10" },
  },
});
const N = Number(a.sleds), M = Number(a.mappings), F = Math.min(Number(a.full), N);
const K = Number(a.changes), TTL = Number(a.ttl);
const PREFIX = "/xdeno";

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const underlay = (sled: number, gen: number) =>
  `fd00:${(sled % 65535).toString(16)}::${gen.toString(16)}`;
const v2pValue = (i: number, gen: number) =>
  JSON.stringify({
    vni: 10,
    ip: ip(i),
    mac: `a8:40:25:${((i >> 16) & 255).toString(16).padStart(2, "0")}:${
      ((i >> 8) & 255).toString(16).padStart(2, "0")
    }:${(i & 255).toString(16).padStart(2, "0")}`,
    underlay: underlay(i % N, gen + 1),
    sled: `sim${i % N}`,
  });
const key = (i: number) => `${PREFIX}/v2p/10/${ip(i)}`;

/** CPU seconds (user+system) and RSS MiB of a process, from /proc. */
function procStat(pid: number): { cpu: number; rssMiB: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
  const rss = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))!;
  return { cpu, rssMiB: Number(rss[1]) / 1024 };
}
const etcdStats = (c: EtcdCluster) => c.pids().map(procStat);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Waiters for one key: resolves when every sled reported it. */
const pending = new Map<string, { left: number; done: () => void }>();
function seen(k: string): void {
  const p = pending.get(k);
  if (p && --p.left === 0) {
    pending.delete(k);
    p.done();
  }
}

const cluster = await EtcdCluster.start();
const clients: EtcdClient[] = [];
/** A client of the cluster (generous timeout: a thousand of them share two cores with etcd). */
const connect = () => new EtcdClient({ endpoints: cluster.endpoints, dialTimeoutMs: 30000 });
const closers: (() => Promise<void>)[] = [];
try {
  console.log(`fleet bench: ${N} sleds (${F} full), ${M} mappings, 3-member etcd`);
  const writer = connect();
  clients.push(writer);
  let t0 = performance.now();
  for (let i = 0; i < M; i += 128) {
    const ops: Op[] = [];
    for (let j = i; j < Math.min(M, i + 128); j++) {
      ops.push({ put: { key: key(j), value: v2pValue(j, 0) } });
    }
    await writer.txn([], ops);
  }
  console.log(`loaded ${M} mappings in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const fullSled = (id: number) => {
    const cfg = Config.parse({
      platform: "memory",
      sled: { underlayAddress: underlay(id, 0), underlayPrefix: "fd00::/16" },
    });
    const dp = new SwitchDatapath(cfg, new MemoryPlatform());
    const ctl = new Control(emptyState(), new Map(), dp, null);
    const client = connect();
    clients.push(client);
    const target = {
      applyFleet: async (cs: Parameters<Control["applyFleet"]>[0]) => {
        const r = await ctl.applyFleet(cs);
        for (const c of cs) seen(`${PREFIX}/${c.kind}/${c.key}`);
        return r;
      },
    };
    const sync = new Syncer(client, PREFIX, target, null, `sim${id}`, () => {}, () => {});
    closers.push(() => sync.close());
    return { sync, dp };
  };

  // Full sleds: a cold sync each (the first one's time is the cold-sync figure under no load).
  const cold: number[] = [];
  for (let s = 0; s < F; s++) {
    const { sync, dp } = fullSled(s);
    t0 = performance.now();
    await sync.resync();
    cold.push(performance.now() - t0);
    if (dp.mappings.v2p.size !== M) throw new Error(`sled ${s} has ${dp.mappings.v2p.size} V2P`);
    await sync.run(); // watch from the synced revision
  }
  const etcd0 = etcdStats(cluster);
  t0 = performance.now();
  for (let s = F; s < N; s++) {
    const client = connect();
    clients.push(client);
    const lease = new KeptLease(client, TTL, { keepalive: () => {} });
    const id = await lease.grant();
    await client.put(`${PREFIX}/sleds/sim${s}`, JSON.stringify({ sled: `sim${s}` }), id);
    closers.push(() => lease.revoke().catch(() => {}));
    const { revision } = await client.range(`${PREFIX}/sleds/sim${s}`);
    const w = client.watch(`${PREFIX}/`, `${PREFIX}0`, revision + 1, {
      events: (evs) => {
        for (const ev of evs) {
          const d = decodeEntry(PREFIX, ev.kv.key, ev.type === "delete" ? null : ev.kv.value);
          if (d.ok === true) seen(ev.kv.key);
        }
      },
      state: () => {},
      compacted: () => {},
    });
    closers.push(() => Promise.resolve(w.cancel()));
  }
  const etcd1 = etcdStats(cluster);
  console.log(
    `${N - F} watch-only sleds connected in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const lat: number[] = [];
  for (let c = 0; c < K; c++) {
    const i = Math.floor(Math.random() * M);
    const done = new Promise<void>((r) => pending.set(key(i), { left: N, done: r }));
    const t = performance.now();
    await writer.put(key(i), v2pValue(i, c + 1));
    await done;
    lat.push(performance.now() - t);
  }
  const etcd2 = etcdStats(cluster);

  // A cold sled joining the loaded fleet.
  const late = fullSled(N);
  t0 = performance.now();
  await late.sync.resync();
  const coldLoaded = performance.now() - t0;

  const mem = Deno.memoryUsage();
  console.log(
    [
      `V2P change applied on all ${N} sleds: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${
        pct(lat, 99).toFixed(1)
      } ms (${K} changes, one at a time)`,
      `cold sync of ${M} mappings (range + validate + apply to a memory switch): ${
        cold.map((x) => (x / 1000).toFixed(2)).join(" / ")
      } s before the watchers, ${(coldLoaded / 1000).toFixed(2)} s with ${N} sleds watching`,
      `etcd CPU: ${
        (sum(etcd1.map((x) => x.cpu)) - sum(etcd0.map((x) => x.cpu))).toFixed(2)
      } s while ${N - F} sleds connected, ${
        (sum(etcd2.map((x) => x.cpu)) - sum(etcd1.map((x) => x.cpu))).toFixed(2)
      } s for ${K} changes (all 3 members)`,
      `etcd RSS per member: ${etcd2.map((x) => x.rssMiB.toFixed(0)).join(" / ")} MiB`,
      `this process: RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${
        (mem.heapUsed / 2 ** 20).toFixed(0)
      } MiB`,
    ].join("\n"),
  );
  closers.push(() => late.sync.close());
} finally {
  for (const c of closers) await c().catch(() => {});
  for (const c of clients) c.close();
  await cluster.stop();
}
