// Issue 10 (faults): the admin server hammered with concurrent requests while frames flow
// through the real switch (memory platform, packet loop in a Worker). Every request answers,
// latency percentiles are reported, and the datapath loses nothing: per-port counters and the
// frames that came out add up to what went in.

import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";
import { createDatapath } from "../../lib/service/platform.ts";
import type { ServiceDatapath } from "../../lib/service/switch_datapath.ts";
import type { WorkerDatapath } from "../../lib/runtime/mod.ts";
import { startHarnessWith } from "../admin/helpers.ts";
import { flows, YAML } from "./sled.ts";

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];

Deno.test({
  name: "admin hammered while traffic flows: every request answers, no frame lost",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cfg = parseConfigText(YAML);
    assert.ok(cfg.ok);
    const dp = await createDatapath(cfg.config, { worker: true }) as ServiceDatapath;
    assert.equal(dp.mode, "worker");
    const wd = dp.inner as WorkerDatapath;
    const h = await startHarnessWith(dp, { rateLimit: { perSecond: 1e4, burst: 1e4 } }, YAML);
    const CLIENTS = Number(Deno.env.get("HAMMER_CLIENTS") ?? 32);
    const SECONDS = Number(Deno.env.get("HAMMER_SECONDS") ?? 3);
    try {
      // Traffic: batches zone-a → zone-b and vm-a → vm-b (through the VPC) until the end.
      const zone = flows("zone", 256), vm = flows("vm", 256);
      const sent = { "zone-b": 0, "vm-b": 0 }, got = { "zone-b": 0, "vm-b": 0 };
      let stop = false;
      const traffic = (async () => {
        for (let i = 0; !stop; i++) {
          const k = i % 8;
          sent["zone-b"] += await wd.inject("zone-a", zone.slice(k * 32, k * 32 + 32));
          sent["vm-b"] += await wd.inject("vm-a", vm.slice(k * 32, k * 32 + 32));
          got["zone-b"] += (await wd.take("zone-b")).length;
          got["vm-b"] += (await wd.take("vm-b")).length;
        }
      })();

      const paths: [string, string, unknown?][] = [
        ["GET", "/v1/ports"],
        ["GET", "/v1/ports/zone-a"],
        ["GET", "/metrics"],
        ["GET", "/v1/v2p"],
        ["GET", "/v1/ports/vm-a/flows/uft"],
        ["GET", "/v1/ports/vm-a/layers"],
        ["GET", "/v1/underlay/links"],
        ["PUT", "/v1/v2p", null],
        ["GET", "/healthz"],
      ];
      const lat: number[] = [], readLat: number[] = [], writeLat: number[] = [];
      let puts = 0;
      const bad: string[] = [];
      const end = performance.now() + SECONDS * 1000;
      let n = 0;
      const client = async (id: number) => {
        for (let i = id; performance.now() < end; i += CLIENTS) {
          const [method, path] = paths[i % paths.length];
          const seq = n++;
          const body = method === "PUT"
            ? JSON.stringify({
              vni: 20,
              ip: `10.9.${(seq >> 8) & 255}.${seq & 255}`,
              mac: "a8:40:25:f0:00:09",
              underlay: "fd00:2::9",
            })
            : undefined;
          const t0 = performance.now();
          try {
            const res = await fetch(h.url + path, {
              method,
              body,
              headers: body ? { "content-type": "application/json" } : {},
            });
            await res.arrayBuffer();
            if (res.status !== 200) bad.push(`${method} ${path}: ${res.status}`);
            else if (method === "PUT") puts++;
          } catch (e) {
            bad.push(`${method} ${path}: ${(e as Error).message}`);
          }
          const ms = performance.now() - t0;
          lat.push(ms);
          (method === "PUT" ? writeLat : readLat).push(ms);
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
      stop = true;
      await traffic;
      // Drain what is still in flight.
      for (
        let i = 0;
        i < 100 && (got["zone-b"] < sent["zone-b"] || got["vm-b"] < sent["vm-b"]);
        i++
      ) {
        await new Promise((r) => setTimeout(r, 10));
        got["zone-b"] += (await wd.take("zone-b")).length;
        got["vm-b"] += (await wd.take("vm-b")).length;
      }
      await wd.refresh();

      const stats = (xs: number[]) => {
        xs.sort((a, b) => a - b);
        const f = (q: number) => pct(xs, q).toFixed(1);
        return `p50 ${f(0.5)} ms, p99 ${f(0.99)} ms, max ${xs[xs.length - 1].toFixed(1)} ms`;
      };
      console.log(
        `${lat.length} requests from ${CLIENTS} clients in ${SECONDS} s ` +
          `(${Math.round(lat.length / SECONDS)}/s): all ${stats(lat)}; reads ${stats(readLat)}; ` +
          `persisted writes ${stats(writeLat)}; frames zone ${sent["zone-b"]}, vm ${sent["vm-b"]}`,
      );
      assert.deepEqual(bad.slice(0, 5), []);
      assert.ok(lat.length > CLIENTS * 5, `only ${lat.length} requests`);
      assert.ok(sent["zone-b"] > 1000 && sent["vm-b"] > 1000, JSON.stringify(sent));
      assert.deepEqual(got, sent, "every frame in came out");
      for (const [src, dst] of [["zone-a", "zone-b"], ["vm-a", "vm-b"]] as const) {
        const a = dp.portStatus(src)!.counters, b = dp.portStatus(dst)!.counters;
        assert.equal(a.rx_frames, sent[dst], `${src} rx`);
        assert.equal(b.tx_frames, sent[dst], `${dst} tx`);
        assert.equal(a.drops + b.drops, 0);
      }
      const drops = dp.counters().filter((s) => s.name === "xdeno_switch_drops_total")
        .reduce((t, s) => t + s.value, 0);
      assert.equal(drops, 0, "switch drops");
      // The API changes made under load all landed.
      assert.ok(puts > 0);
      assert.equal(h.ctl.state.v2p.size, 2 + puts);
    } finally {
      await h.close();
      await dp.close();
    }
  },
});
