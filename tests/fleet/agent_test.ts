// The fleet agent in-process against a real 3-member etcd cluster on loopback, with a memory
// switch behind the admin control plane: local entries win, bad entries are refused with the
// field, a compacted revision is resynced applying only the difference.

import assert from "node:assert/strict";
import { Control } from "../../lib/admin/control.ts";
import { stateFromConfig } from "../../lib/config/resources.ts";
import { Config } from "../../lib/config/schema.ts";
import { FleetAgent } from "../../lib/fleet/agent.ts";
import { SwitchDatapath } from "../../lib/runtime/mod.ts";
import { startRuntime } from "../../lib/runtime/mod.ts";
import { EtcdCluster, haveEtcd, until } from "./etcd.ts";

const skip = !haveEtcd();
if (skip) {
  console.warn("SKIP fleet agent: etcd not installed (tests/setup.sh installs etcd-server)");
}

async function sled(etcd: EtcdCluster, stateDir: string, extra: Record<string, unknown> = {}) {
  const cfg = Config.parse({
    platform: "memory",
    stateDir,
    sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" },
    fleet: { etcd: { endpoints: etcd.endpoints }, sledId: "s1", leaseTtlSeconds: 3 },
    ...extra,
  });
  const dp = await startRuntime(cfg, { worker: false }) as SwitchDatapath;
  const ctl = new Control(stateFromConfig(cfg), new Map(), dp, null);
  const agent = await FleetAgent.prepare(cfg.fleet!, ctl, {
    underlay: cfg.sled.underlayAddress,
    stateDir,
  });
  await ctl.start();
  agent.start();
  return { ctl, dp, agent };
}

const v2p = (ip: string, under: string, sled = "s9") =>
  JSON.stringify({ vni: 10, ip, mac: "a8:40:25:fa:00:01", underlay: under, sled });

Deno.test({
  name:
    "fleet agent: precedence, validation, multicast, compaction resync with only the difference",
  ignore: skip && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const etcd = await EtcdCluster.start();
    const dir = await Deno.makeTempDir();
    try {
      await etcd.ctl("put", "/xdeno/v2p/10/10.0.0.1", v2p("10.0.0.1", "fd00:9::1"));
      await etcd.ctl("put", "/xdeno/v2p/10/10.0.0.2", v2p("10.0.0.2", "fd00:9::2"));
      await etcd.ctl("put", "/xdeno/v2p/10/10.0.0.3", v2p("10.0.0.3", "fd00:9::3"));
      // A local (config) entry for 10.0.0.3 that differs: the local one wins.
      let s = await sled(etcd, dir, {
        mappings: {
          v2p: [{ vni: 10, ip: "10.0.0.3", mac: "a8:40:25:fa:00:03", underlay: "fd00:1::3" }],
        },
        ports: [{ name: "z1", kind: "system", mac: "a8:40:25:00:00:11", multicast: ["239.1.1.1"] }],
      });
      await until("initial sync", () => s.ctl.state.v2p.size === 3);
      const under = (ip: string) =>
        s.dp.mappings.v2p.dump().find((e) => e.ip === ip)?.underlay ?? null;
      assert.equal(under("10.0.0.1"), "fd00:9::1");
      assert.equal(under("10.0.0.3"), "fd00:1::3", "config wins over the fleet");
      assert.equal(s.ctl.sourceOf("v2p", "10/10.0.0.3"), "config");
      assert.equal(s.ctl.sourceOf("v2p", "10/10.0.0.1"), "fleet");
      const st = s.agent.status() as { shadowed: Record<string, string> };
      assert.deepEqual(Object.keys(st.shadowed), ["/xdeno/v2p/10/10.0.0.3"]);

      // Multicast: M2P and forwarding from the control plane; the switch's own check refuses an
      // underlay group outside ff04::/16 (counted, the rest applied); subscriptions published.
      await etcd.ctl("put", "/xdeno/m2p/239.1.1.1", '{"group":"239.1.1.1","underlay":"ff04::1"}');
      await etcd.ctl("put", "/xdeno/m2p/239.1.1.2", '{"group":"239.1.1.2","underlay":"ff05::2"}');
      await etcd.ctl(
        "put",
        "/xdeno/mcast/ff04::1",
        '{"underlay":"ff04::1","nextHops":[{"via":"fd00:2::1","replication":"underlay"}]}',
      );
      await until("multicast state", () => s.ctl.state.mcastFwd.has("ff04::1"));
      assert.equal(s.ctl.sourceOf("m2p", "239.1.1.1"), "fleet");
      assert.equal(s.ctl.state.m2p.has("239.1.1.2"), false);
      assert.equal(s.agent.sync.counters.rejected, 1);
      await until("subscriptions published", () => s.agent.publisher.held.has("/xdeno/sub/s1/z1"));
      const sub = JSON.parse(await etcd.ctl("get", "--print-value-only", "/xdeno/sub/s1/z1"));
      assert.deepEqual(sub, {
        sled: "s1",
        port: "z1",
        underlay: "fd00:1::1",
        groups: ["239.1.1.1"],
      });

      // A value that fails the API's validation is refused with the field, nothing applied.
      await etcd.ctl("put", "/xdeno/v2p/10/10.0.0.4", v2p("10.0.0.4", "not-an-address"));
      await until("bad entry seen", () => s.agent.sync.counters.badEntries === 1);
      assert.equal(under("10.0.0.4"), null);
      await s.agent.close();
      await s.dp.close();

      // While the sled is away: one entry changes, one goes, one appears; then etcd compacts.
      await etcd.ctl("put", "/xdeno/v2p/10/10.0.0.1", v2p("10.0.0.1", "fd00:9::11"));
      await etcd.ctl("del", "/xdeno/v2p/10/10.0.0.2");
      await etcd.ctl("put", "/xdeno/v2p/10/10.0.0.5", v2p("10.0.0.5", "fd00:9::5"));
      const rev = JSON.parse(await etcd.ctl("get", "/", "-w", "json")).header.revision;
      await etcd.ctl("compact", String(rev));
      const saved = JSON.parse(await Deno.readTextFile(`${dir}/fleet.json`)).revision;
      assert.ok(saved > 0 && saved < rev, `persisted revision ${saved} is behind the compaction`);

      s = await sled(etcd, dir);
      // The persisted state is there before etcd answers.
      assert.equal(s.ctl.state.v2p.get("10/10.0.0.2")?.underlay, "fd00:9::2");
      await until(
        "resynced",
        () => s.agent.sync.counters.resyncs === 1 && under("10.0.0.5") !== null,
      );
      assert.equal(under("10.0.0.1"), "fd00:9::11");
      assert.equal(under("10.0.0.2"), null);
      assert.equal(under("10.0.0.3"), "fd00:9::3", "no local entry this time");
      assert.equal(s.agent.sync.counters.applied, 3, "only the difference was applied");
      await s.agent.close();
      await s.dp.close();
    } finally {
      await etcd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
