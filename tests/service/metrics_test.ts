// /metrics over the real switch (memory platform, Worker): drops per port and per layer, with
// Prometheus labels, counted from frames this test sends.

import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";
import type { WorkerDatapath } from "../../lib/runtime/mod.ts";
import { createDatapath } from "../../lib/service/platform.ts";
import type { ServiceDatapath } from "../../lib/service/switch_datapath.ts";
import { startHarnessWith } from "../admin/helpers.ts";
import { flows, YAML } from "./sled.ts";

Deno.test({
  name: "/metrics: a firewall deny shows as drops of that port and of its firewall layer, inbound",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cfg = parseConfigText(YAML);
    assert.ok(cfg.ok);
    const dp = await createDatapath(cfg.config, { worker: true }) as ServiceDatapath;
    const wd = dp.inner as WorkerDatapath;
    const h = await startHarnessWith(dp, {}, YAML);
    try {
      const deny = [{
        direction: "in",
        priority: 10,
        action: "deny",
        protocol: "udp",
        ports: "4444",
      }];
      assert.equal((await h.call("PUT", "/v1/ports/vm-b/firewall", deny)).status, 200);
      assert.equal(await wd.inject("vm-a", flows("vm", 3)), 3);
      let text = "";
      for (let i = 0; i < 100; i++) {
        await wd.refresh();
        text = await (await fetch(`${h.url}/metrics`)).text();
        if (
          /xdeno_layer_drops_total\{port="vm-b",layer="firewall",direction="in"\} 3\n/.test(text)
        ) {
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(text, /# TYPE xdeno_layer_drops_total counter\n/);
      assert.match(
        text,
        /xdeno_layer_drops_total\{port="vm-b",layer="firewall",direction="in"\} 3\n/,
      );
      assert.match(
        text,
        /xdeno_layer_drops_total\{port="vm-a",layer="firewall",direction="out"\} 0\n/,
      );
      const portDrops = [
        ...text.matchAll(
          /^xdeno_port_pipeline_drops_total\{port="([^"]+)",reason="[^"]+"\} (\d+)$/gm,
        ),
      ]
        .map((m) => [m[1], Number(m[2])]);
      assert.deepEqual(portDrops, [["vm-b", 3]]);
      assert.equal((await wd.take("vm-b")).length, 0, "nothing reached vm-b");
    } finally {
      await h.close();
      await dp.close();
    }
  },
});
