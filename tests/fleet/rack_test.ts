// Root: a rack of 3 sleds (xdeno run in fleet mode) against a 3-member etcd cluster, with real
// traffic between instances: migration, faults, restart during an outage, conflicting claims.

import assert from "node:assert/strict";
import { isRoot } from "../link/netns.ts";
import { ping, plumbGuest } from "../runtime/bed.ts";
import { haveEtcd } from "./etcd.ts";
import { instance, Rack } from "./rack.ts";

/** Pings every 20 ms for `secs`; the receive times (ms) of the replies. */
async function pingTimes(ns: string, dst: string, secs: number): Promise<number[]> {
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, "ping", "-D", "-n", "-i", "0.02", "-w", String(secs), dst],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => /^\[(\d+\.\d+)\] \d+ bytes from/.exec(l))
    .filter((m) => m !== null).map((m) => Number(m![1]) * 1000);
}

/** The longest interval between two consecutive replies (ms) and the time of the reply ending it. */
function longestGap(ts: number[]): [number, number] {
  let gap = 0, end = ts[0] ?? 0;
  for (let i = 1; i < ts.length; i++) {
    if (ts[i] - ts[i - 1] > gap) [gap, end] = [ts[i] - ts[i - 1], ts[i]];
  }
  return [gap, end];
}

const why = !haveEtcd() ? "etcd not installed (tests/setup.sh installs etcd-server)" : null;
if (why) console.warn(`SKIP fleet rack: ${why}`);

async function metricsOf(rack: Rack, k: number): Promise<string> {
  const s = rack.sleds[k - 1];
  const r = await new Deno.Command("ip", {
    args: ["netns", "exec", s.gz, "curl", "-s", `${s.svc!.url}/metrics`],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(r.stdout);
}

/** Runs an xdeno CLI verb against sled K (inside its namespace); its stdout. */
async function cli(rack: Rack, k: number, ...args: string[]): Promise<string> {
  const s = rack.sleds[k - 1];
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const r = await new Deno.Command("ip", {
    args: ["netns", "exec", s.gz, Deno.execPath(), "run", "-A", main, ...args, "--url", s.svc!.url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.ok(r.success, dec.decode(r.stderr));
  return dec.decode(r.stdout);
}

/** Retries a control-plane write while etcd elects a new leader. */
async function retry<T>(f: () => Promise<T>, tries = 20): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

Deno.test({
  name: "fleet rack: V2P through etcd, migration, conflict, faults, restart",
  ignore: !isRoot("fleet rack") || (why !== null && !Deno.env.get("CI")),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const rack = await Rack.build(3, 3);
    const u = rack.u;
    try {
      const v1 = rack.vm("v1"), v2 = rack.vm("v2");
      await rack.start(1, [instance(`${u}i1`, v1, "172.30.0.10", "a8:40:25:fa:00:0a")]);
      await rack.start(2, [instance(`${u}i2`, v2, "172.30.0.11", "a8:40:25:fa:00:0b")]);
      await rack.start(3);
      plumbGuest(v1, `${u}i1`, "172.30.0.10");
      plumbGuest(v2, `${u}i2`, "172.30.0.11");

      await t.step("every sled learns every published V2P", async () => {
        for (const k of [1, 2, 3]) {
          await rack.until(`sled ${k} has both V2P entries`, async () => {
            const m = await rack.v2p(k);
            return m.get("172.30.0.10")?.underlay === "fd00:1::1" &&
              m.get("172.30.0.11")?.underlay === "fd00:2::1";
          });
          const m = await rack.v2p(k);
          assert.equal(m.get("172.30.0.10")?.source, "fleet");
        }
        assert.ok(await ping(v2, "172.30.0.10", 3), "sled2's instance reaches sled1's over Geneve");
        const status = await cli(rack, 2, "fleet", "status");
        assert.match(status, /^sled +sled2$/m);
        assert.match(status, /^state +ok$/m);
        assert.match(status, /^sleds +sled1, sled2, sled3$/m);
        const dump = await cli(rack, 2, "dump-v2p");
        assert.match(dump, /^10 +172\.30\.0\.10 +a8:40:25:fa:00:0a +fd00:1::1 +fleet$/m);
      });

      const v3 = rack.vm("v3");
      await t.step(
        "migration sled1 → sled3 while sled2 pings: pings resume within 1 s",
        async () => {
          // As a live migration does: the destination's port is ready first (its claim waits
          // while sled1 holds the address), then the source's port goes.
          await rack.api(
            3,
            "POST",
            "/v1/ports",
            instance(`${u}i1`, v3, "172.30.0.10", "a8:40:25:fa:00:0a"),
          );
          plumbGuest(v3, `${u}i1`, "172.30.0.10");
          await rack.until("sled3 waits for sled1's claim", async () => {
            const h = await rack.api(3, "GET", "/healthz") as { fleet: { conflicts?: unknown[] } };
            return JSON.stringify(h.fleet.conflicts) ===
              JSON.stringify([{ entry: "10/172.30.0.10", holder: "sled1" }]);
          });
          const pings = pingTimes(v2, "172.30.0.10", 4);
          await new Promise((r) => setTimeout(r, 1000));
          const t0 = Date.now();
          await rack.api(1, "DELETE", `/v1/ports/${u}i1`);
          const tDel = Date.now();
          const ts = await pings;
          const after = ts.filter((x) => x > t0);
          const [gap, resumed] = longestGap(ts);
          console.log(
            `migration: longest gap between replies ${gap.toFixed(0)} ms (${ts.length} replies, ` +
              `${after.length} after the move); the DELETE on sled1 took ${tDel - t0} ms, ` +
              `replies resumed ${(resumed - t0).toFixed(0)} ms after it was sent`,
          );
          assert.ok(after.length > 10, `pings resumed after the move (${after.length} replies)`);
          assert.ok(gap < 1000, `pings resumed within 1 s (gap ${gap.toFixed(0)} ms)`);
          for (const k of [1, 2, 3]) {
            assert.equal((await rack.v2p(k)).get("172.30.0.10")?.underlay, "fd00:3::1");
          }
        },
      );

      await t.step(
        "two sleds claim one (VNI, IP): one holds it, the other reports it",
        async () => {
          const vc = rack.vm("vc");
          await rack.api(
            1,
            "POST",
            "/v1/ports",
            instance(`${u}c1`, vc, "172.30.0.10", "a8:40:25:fa:00:0c"),
          );
          const holder = JSON.parse(
            (await rack.etcd.ctl("get", "--print-value-only", "/xdeno/v2p/10/172.30.0.10")).trim(),
          );
          assert.equal(holder.sled, "sled3", "the first claim keeps it");
          await rack.until("sled1 reports the conflict in /healthz", async () => {
            const h = await rack.api(1, "GET", "/healthz") as { fleet: { conflicts?: unknown[] } };
            return JSON.stringify(h.fleet.conflicts) ===
              JSON.stringify([{ entry: "10/172.30.0.10", holder: "sled3" }]);
          });
          await rack.sleds[0].svc!.waitLog(/10\/172\.30\.0\.10"? is held by sled "?sled3/);
          const metrics = await metricsOf(rack, 1);
          assert.match(metrics, /^xdeno_fleet_conflicts\{kind="sled"\} 1$/m);
          const h3 = await rack.api(3, "GET", "/healthz") as { fleet: { conflicts?: unknown[] } };
          assert.equal(h3.fleet.conflicts, undefined, "the holder reports none");
          for (const k of [1, 2, 3]) {
            assert.equal((await rack.v2p(k)).get("172.30.0.10")?.underlay, "fd00:3::1");
          }
          await rack.api(1, "DELETE", `/v1/ports/${u}c1`);
          await rack.until("the conflict clears", async () => {
            const h = await rack.api(1, "GET", "/healthz") as { fleet: { conflicts?: unknown[] } };
            return h.fleet.conflicts === undefined;
          });
        },
      );

      const v4 = rack.vm("v4");
      await t.step(
        "the etcd leader is killed in the middle of changes: the rack converges",
        async () => {
          const prefixes = Array.from({ length: 16 }, (_, i) => `198.51.100.${i}/32`);
          for (const [i, prefix] of prefixes.entries()) {
            if (i === 8) {
              const lead = await rack.etcd.leader();
              await rack.etcd.kill(lead);
              console.log(`killed leader ${lead.name} after ${i} changes`);
              await rack.api(
                1,
                "POST",
                "/v1/ports",
                instance(`${u}i4`, v4, "172.30.0.12", "a8:40:25:fa:00:0d"),
              );
            }
            const value = JSON.stringify({ vni: 10, prefix, endpoints: ["fd00:99::1"] });
            await retry(() => rack.etcd.ctl("put", `/xdeno/v2b/10/${prefix}`, value));
          }
          const conv = await Promise.all(
            [1, 2, 3].map((k) =>
              rack.until(`sled ${k} has every change`, async () => {
                const v2b = await rack.api(k, "GET", "/v1/v2b") as {
                  prefix: string;
                  source: string;
                }[];
                const got = new Set(v2b.filter((e) => e.source === "fleet").map((e) => e.prefix));
                return prefixes.every((p) => got.has(p)) &&
                  (await rack.v2p(k)).get("172.30.0.12")?.underlay === "fd00:1::1";
              })
            ),
          );
          console.log(
            `sleds converged ${
              conv.map((ms) => ms.toFixed(0)).join(" / ")
            } ms after the last write`,
          );
          for (const m of rack.etcd.members) if (!m.child) rack.etcd.startMember(m);
          await rack.etcd.waitHealthy();
        },
      );

      await t.step(
        "a SIGKILLed sled's V2P entries expire from every other sled with its lease",
        async () => {
          await rack.stop(1, "SIGKILL");
          const t0 = performance.now();
          for (const k of [2, 3]) {
            await rack.until(
              `sled ${k} forgets 172.30.0.12`,
              async () => !(await rack.v2p(k)).has("172.30.0.12"),
              (rack.ttl + 15) * 1000,
            );
          }
          console.log(
            `sled1's V2P gone from sleds 2 and 3 after ${
              (performance.now() - t0).toFixed(0)
            } ms (lease TTL ${rack.ttl} s)`,
          );
          assert.ok((await rack.v2p(2)).has("172.30.0.10"), "other sleds' entries stay");
        },
      );

      await t.step(
        "every etcd member stops: traffic continues, /healthz says degraded",
        async () => {
          for (const m of rack.etcd.members) await rack.etcd.kill(m);
          const h = await rack.until("sled2 reports fleet: degraded", async () => {
            const h = await rack.api(2, "GET", "/healthz") as { fleet: { state: string } };
            return h.fleet.state === "degraded";
          });
          console.log(`sled2 degraded ${h.toFixed(0)} ms after the outage began`);
          assert.ok(await ping(v2, "172.30.0.10", 5), "sled2 → sled3 still forwards");
          const hz = await rack.api(2, "GET", "/healthz") as { fleet: { degradedForMs: number } };
          assert.ok(hz.fleet.degradedForMs >= 0);
        },
      );

      await t.step(
        "a sled restarted while etcd is down forwards on its persisted state",
        async () => {
          await rack.stop(2, "SIGTERM");
          await rack.start(2);
          plumbGuest(v2, `${u}i2`, "172.30.0.11");
          const m = await rack.v2p(2);
          assert.deepEqual(m.get("172.30.0.10"), { underlay: "fd00:3::1", source: "fleet" });
          assert.ok(await ping(v2, "172.30.0.10", 5), "forwards at once on the persisted state");
          const h = await rack.api(2, "GET", "/healthz") as { fleet: { state: string } };
          assert.equal(h.fleet.state, "degraded");
        },
      );

      await t.step("etcd back: the sled reconnects from its revision", async () => {
        for (const m of rack.etcd.members) rack.etcd.startMember(m);
        await rack.etcd.waitHealthy();
        await rack.until("sled2 is ok again", async () => {
          const h = await rack.api(2, "GET", "/healthz") as { fleet: { state: string } };
          return h.fleet.state === "ok";
        }, 30000);
        const st = await rack.api(2, "GET", "/v1/fleet") as { revision: number; sleds: string[] };
        assert.ok(st.revision > 0);
        assert.ok(await ping(v2, "172.30.0.10", 3));
      });
    } finally {
      await rack.down();
    }
  },
});
