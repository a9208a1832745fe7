// The JSON-gateway etcd client against a real 3-member cluster, etcdctl as the oracle: keys
// outside ASCII survive base64 both ways, a transaction's compare-and-swap, failover when the
// member it uses dies (requests move on; the watch resumes with no event lost or repeated), a
// lease that etcd forgets is reported lost, and a compacted start revision ends a watch.

import assert from "node:assert/strict";
import { EtcdClient } from "../../lib/fleet/etcd.ts";
import type { WatchEvent } from "../../lib/fleet/etcd_watch.ts";
import { KeptLease } from "../../lib/fleet/lease.ts";
import { EtcdCluster, haveEtcd, until } from "./etcd.ts";

const skip = !haveEtcd();
if (skip) console.warn("SKIP fleet etcd client: etcd not installed (tests/setup.sh installs it)");

Deno.test({
  name: "etcd JSON-gateway client: base64, CAS, failover with a lossless watch, lease, compaction",
  ignore: skip && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const etcd = await EtcdCluster.start();
    const c = new EtcdClient({ endpoints: etcd.endpoints, dialTimeoutMs: 2000 });
    try {
      // UTF-8 keys and values, checked by etcdctl.
      await c.put("/t/clé", "välue ✓");
      assert.equal((await etcd.ctl("get", "/t/clé", "--print-value-only")).trim(), "välue ✓");
      await etcd.ctl("put", "/t/ü", "from etcdctl");
      const r = await c.range("/t/", { end: "/t0" });
      assert.deepEqual(r.kvs.map((kv) => [kv.key, kv.value]), [
        ["/t/clé", "välue ✓"],
        ["/t/ü", "from etcdctl"],
      ]);

      // Compare-and-swap on create: the second claim fails and reads the holder.
      const claim = (v: string) =>
        c.txn([{ key: "/t/claim", target: "CREATE", value: 0 }], [{
          put: { key: "/t/claim", value: v },
        }], [{ get: { key: "/t/claim" } }]);
      assert.equal((await claim("first")).succeeded, true);
      const second = await claim("second");
      assert.equal(second.succeeded, false);
      assert.equal(second.responses[0].kvs[0].value, "first");

      // A watch from now; the member the client uses dies; writes go on through etcdctl.
      const got: WatchEvent[] = [];
      const w = c.watch("/w/", "/w0", (await c.range("/w/")).revision + 1, {
        events: (evs) => got.push(...evs),
        state: () => {},
        compacted: () => {},
      });
      await etcd.ctl("put", "/w/1", "a");
      await until("first event", () => got.length === 1);
      const used = etcd.members.find((m) => c.endpoint.endsWith(`:${m.clientPort}`))!;
      await etcd.kill(used);
      await etcd.waitHealthy();
      for (let i = 2; i <= 5; i++) await etcd.ctl("put", `/w/${i}`, "b");
      await c.put("/w/6", "through another member");
      await until("every event once", () => got.length >= 6);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(got.map((e) => e.kv.key), ["/w/1", "/w/2", "/w/3", "/w/4", "/w/5", "/w/6"]);
      assert.ok(w.reconnects >= 1, "the watch reconnected");
      assert.notEqual(c.endpoint, etcd.endpoints[etcd.members.indexOf(used)]);
      w.cancel();

      // A lease etcd no longer has (revoked behind our back) is lost at the next refresh.
      const kept = new KeptLease(c, 2, { keepalive: () => {} });
      const id = await kept.grant();
      await etcd.ctl("lease", "revoke", BigInt(id).toString(16));
      await Promise.race([
        kept.lost,
        new Promise((_, no) => setTimeout(() => no(new Error("lease not reported lost")), 5000)),
      ]);

      // A start revision etcd has compacted: the watch says so and ends.
      const rev = (await c.range("/w/")).revision;
      await etcd.ctl("compact", String(rev));
      let compacted = 0;
      c.watch("/w/", "/w0", 2, {
        events: () => {},
        state: () => {},
        compacted: (n) => (compacted = n),
      });
      await until("compacted", () => compacted > 0);
      assert.equal(compacted, rev);
    } finally {
      c.close();
      await etcd.stop();
    }
  },
});
