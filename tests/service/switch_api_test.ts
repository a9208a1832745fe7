// The admin API over the real switch (memory platform, Worker): flow dumps and clears, layers,
// pause/start, underlay links, neighbours and trace answer from the switch.

import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";
import type { WorkerDatapath } from "../../lib/runtime/mod.ts";
import { createDatapath } from "../../lib/service/platform.ts";
import type { ServiceDatapath } from "../../lib/service/switch_datapath.ts";
import { startHarnessWith } from "../admin/helpers.ts";
import { flows, YAML } from "./sled.ts";

async function collect(wd: WorkerDatapath, link: string, n: number): Promise<number> {
  let got = 0;
  for (let i = 0; i < 100 && got < n; i++) {
    got += (await wd.take(link)).length;
    if (got < n) await new Promise((r) => setTimeout(r, 10));
  }
  return got;
}

Deno.test({
  name: "real switch behind the API: flows, layers, pause/start, underlay links",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cfg = parseConfigText(YAML);
    assert.ok(cfg.ok);
    const dp = await createDatapath(cfg.config, { worker: true }) as ServiceDatapath;
    const wd = dp.inner as WorkerDatapath;
    const h = await startHarnessWith(dp, {}, YAML);
    try {
      // Three flows vm-a → vm-b through the VPC.
      assert.equal(await wd.inject("vm-a", flows("vm", 3)), 3);
      assert.equal(await collect(wd, "vm-b", 3), 3);

      let r = await h.call("GET", "/v1/ports/vm-a/flows/uft");
      assert.equal(r.status, 200);
      assert.equal(r.body.filter((f: { dir: string }) => f.dir === "out").length, 3);
      r = await h.call("GET", "/v1/ports/vm-a/layers");
      assert.equal(r.status, 200);
      const names = r.body.map((l: { layer: string }) => l.layer);
      assert.ok(names.includes("firewall") && names.includes("router"), names.join());
      const fw = r.body.find((l: { layer: string }) => l.layer === "firewall");
      assert.equal(fw.flows, 3, "the firewall keeps one stateful flow per connection");
      r = await h.call("GET", "/v1/ports/vm-a/layers/firewall");
      assert.equal(r.status, 200);
      assert.equal(r.body.layer, "firewall");
      assert.equal(r.body.flows.length, 3);
      assert.equal((await h.call("GET", "/v1/ports/vm-a/layers/nope")).status, 404);
      // System zones have no VPC pipeline: no layers, and flow tables are refused by field.
      assert.deepEqual((await h.call("GET", "/v1/ports/zone-a/layers")).body, []);
      r = await h.call("GET", "/v1/ports/zone-a/flows/uft");
      assert.equal(r.status, 409);
      assert.equal(r.body.field, "port");

      r = await h.call("DELETE", "/v1/ports/vm-a/flows/uft");
      assert.deepEqual([r.status, r.body.cleared], [200, 3]);
      r = await h.call("DELETE", "/v1/ports/vm-a/flows/lft");
      assert.equal(r.status, 200);
      r = await h.call("GET", "/v1/ports/vm-a/layers/firewall");
      assert.equal(r.body.flows.length, 0);

      // Pause vm-b: the switch drops what is sent to it; start: traffic flows again.
      assert.equal((await h.call("POST", "/v1/ports/vm-b/pause")).status, 200);
      await wd.refresh();
      assert.equal((await h.call("GET", "/v1/ports/vm-b")).body.status.state, "paused");
      assert.equal(await wd.inject("vm-a", flows("vm", 2)), 2);
      assert.equal(await collect(wd, "vm-b", 1), 0);
      assert.equal((await h.call("POST", "/v1/ports/vm-b/start")).status, 200);
      assert.equal(await wd.inject("vm-a", flows("vm", 2)), 2);
      assert.equal(await collect(wd, "vm-b", 2), 2);
      await wd.refresh();
      assert.equal((await h.call("GET", "/v1/ports/vm-b")).body.status.state, "running");
      const metrics = await (await fetch(`${h.url}/metrics`)).text();
      assert.match(metrics, /xdeno_switch_drops_total\{reason="port-down"\} 2\n/);

      r = await h.call("GET", "/v1/underlay/links");
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.map((l: { name: string }) => l.name), ["ul0"]);
      assert.deepEqual(Object.keys(r.body[0].counters).sort(), [
        "rx_bytes",
        "rx_errors",
        "rx_frames",
        "tx_bytes",
        "tx_dropped",
        "tx_errors",
        "tx_frames",
      ]);
      // Neighbours and trace answer from the switch (details: inspect_test.ts).
      assert.equal((await h.call("GET", "/v1/underlay/neighbours")).status, 200);
      r = await h.call("POST", "/v1/trace", {
        port: "vm-a",
        direction: "out",
        packet: "00".repeat(60),
      });
      assert.deepEqual([r.status, r.body.verdict, r.body.frame], [200, "drop", null]);
    } finally {
      await h.close();
      await dp.close();
    }
  },
});
