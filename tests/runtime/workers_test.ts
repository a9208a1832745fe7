// Two datapath workers on real Linux links (root): multi-queue TAPs with one queue per worker and
// a fanout group on the underlay. Parallel TCP flows and pings cross both workers; the kernel's
// own counters in the receiving zone show whether segments arrived out of order, compared with
// one worker on the same bed; an API change reaches both workers; a port re-created through the
// API still carries every flow (each worker adopted its queue of the new device).

import assert from "node:assert/strict";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { MultiWorkerDatapath } from "../../lib/runtime/workers.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import type { PortSpec } from "../../lib/config/resources.ts";
import { delNetns, isRoot, linkNames, sh, uniq } from "../link/netns.ts";
import { type Bed, dropBed, iperfRun, makeBed, ping, pingOk, plumbGuest } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
import { twoSleds } from "./sleds.ts";

/** One 2 s iperf3 run with `streams` parallel TCP flows: Gbit/s and the sender's retransmits. */
function iperfP(clientNs: string, dst: string, serverNs: string, streams: number) {
  return iperfRun(serverNs, clientNs, dst, 2, streams);
}

/** A kernel TCP counter of namespace `ns` (nstat, absolute value). */
function tcpCounter(ns: string, name: string): number {
  const out = sh(["ip", "netns", "exec", ns, "nstat", "-az", "--json", name]);
  return JSON.parse(out).kernel[name] ?? 0;
}

/** Runs iperf3 -P `streams` zone-a → zone-b; segments zone-b's kernel queued out of order. */
async function parallelTcp(b: Bed, streams: number) {
  const before = tcpCounter(b.ns.zb, "TcpExtTCPOFOQueue");
  const r = await iperfP(b.ns.za, "fd00:1::11", b.ns.zb, streams);
  return { ...r, ofo: tcpCounter(b.ns.zb, "TcpExtTCPOFOQueue") - before };
}

/** Frames each worker read from the underlay. */
async function underlayRx(multi: MultiWorkerDatapath): Promise<number[]> {
  await multi.refresh();
  return multi.workers.map((w) =>
    w.counters().find((c) => c.name === "xdeno_underlay_rx_frames_total")?.value ?? 0
  );
}

async function withBed<T>(
  workers: number,
  f: (b: Bed, dp: AdminDatapath) => Promise<T>,
  instances = false,
) {
  const b = makeBed({ instances });
  let dp: AdminDatapath | null = null;
  try {
    dp = await startRuntime(b.config, { gzNetns: b.ns.gz, offload: true, workers });
    for (const c of initialChanges(b.config)) await dp.apply(c);
    assert.ok(await pingOk(b.ns.za, "fd00:1::11"), "zone-a → zone-b");
    assert.ok(await pingOk(b.ns.za, "fd00:2::10"), "zone-a → rack");
    assert.ok(await pingOk(b.ns.gz, "fd00:2::10"), "GZ → rack");
    return await f(b, dp);
  } finally {
    await dp?.close().catch(() => {});
    dropBed(b);
  }
}

Deno.test({
  name: "two datapath workers: parallel TCP in order, both queues used, API changes reach both",
  ignore: !isRoot("datapath workers"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const one = await withBed(1, (b) => parallelTcp(b, 4));
    await withBed(2, async (b, dp) => {
      const multi = dp as MultiWorkerDatapath;
      assert.equal(multi.workers.length, 2);
      const two = await parallelTcp(b, 4);
      console.log(
        `  iperf3 -P 4 zone→zone: workers=1 ${one.gbps.toFixed(2)} Gbps, ${one.retransmits} ` +
          `retransmits, ${one.ofo} out-of-order; workers=2 ${two.gbps.toFixed(2)} Gbps, ` +
          `${two.retransmits} retransmits, ${two.ofo} out-of-order`,
      );
      // Each flow stays on one queue and one worker: no more reordering than with one worker.
      assert.ok(two.ofo <= one.ofo + 10, `out-of-order segments ${two.ofo} vs ${one.ofo}`);
      assert.ok(two.gbps > 0);
      // Eight more flows: each worker's queue of zone-a carried some of them.
      await iperfP(b.ns.za, "fd00:1::11", b.ns.zb, 8);
      await multi.refresh();
      const rx = multi.workers.map((w) => w.portStatus(`${b.u}a`)!.counters.rx_frames);
      assert.ok(rx.every((n) => n > 100), `zone-a frames per worker: ${rx}`);
      const total = multi.portStatus(`${b.u}a`)!.counters.rx_frames;
      assert.equal(total, rx[0] + rx[1], "port counters are summed over workers");
      // Routed flows to the rack cross the underlay fanout and both workers' neighbour caches.
      const ul0 = await underlayRx(multi);
      const rack = await iperfP(b.ns.za, "fd00:2::10", b.ns.rack, 8);
      assert.ok(rack.gbps > 0);
      // The rack's ACKs of eight flows are spread over both workers by the fanout program.
      const ul = (await underlayRx(multi)).map((n, k) => n - ul0[k]);
      assert.ok(ul.every((n) => n > 100), `underlay frames per worker: ${ul}`);

      // A route added through the API reaches both switches.
      await dp.apply({
        kind: "route",
        key: "fd00:3::/64",
        value: { prefix: "fd00:3::/64", nextHops: [{ link: "ul0", via: "fe80::ff" }] },
      });
      const d = await multi.describe() as { workers: { routes: unknown[] }[] };
      for (const [k, w] of d.workers.entries()) {
        assert.ok(JSON.stringify(w.routes).includes("fd00:3::"), `worker ${k} has the route`);
      }

      // Zone-b's port re-created with another MTU: worker 0 makes the device, worker 1 adopts
      // its queue; flows hashed to either queue still arrive.
      const spec = b.config.ports.find((p) => p.name === `${b.u}b`)!;
      await dp.apply({ kind: "port", key: spec.name, value: { ...spec, mtu: 1400 } as PortSpec });
      assert.ok(sh(["ip", "-n", b.ns.zb, "link", "show", spec.name]).includes("mtu 1400"));
      assert.ok(await pingOk(b.ns.za, "fd00:1::11"), "zone-a → zone-b after re-creation");
      assert.ok(
        (await iperfP(b.ns.za, "fd00:1::11", b.ns.zb, 8)).gbps > 0,
        "8 flows after re-creation",
      );
      await multi.refresh();
      const rxB = multi.workers.map((w) => w.portStatus(spec.name)!.counters.tx_frames);
      assert.ok(rxB.every((n) => n > 100), `zone-b frames per worker after re-creation: ${rxB}`);

      // VPC ports live on worker 0 (one TAP queue, one pipeline): instances reach each other,
      // parallel flows included, and a firewall change reaches their pipelines.
      const { u, ns } = b;
      plumbGuest(ns.va!, `${u}va`, "172.30.0.10");
      plumbGuest(ns.vb!, `${u}vb`, "172.30.0.11");
      assert.ok(await pingOk(ns.va!, "172.30.0.11"), "vm-a → vm-b");
      assert.ok((await iperfP(ns.va!, "172.30.0.11", ns.vb!, 4)).gbps > 0, "vm-a → vm-b TCP");
      await dp.apply({
        kind: "firewall",
        key: `${u}va`,
        value: [{
          id: 0,
          direction: "in",
          priority: 10,
          action: "deny",
          protocol: "icmp",
          host: "any",
        }],
      });
      assert.ok(!await ping(ns.vb!, "172.30.0.10"), "vm-b → vm-a is denied now");
      assert.ok(await pingOk(ns.va!, "172.30.0.11"), "vm-a → vm-b still works (stateful)");
      await dp.close();
      assert.ok(!linkNames(b.ns.za).includes(`${b.u}a`), "zone-a's port is gone");
      assert.ok(!linkNames(b.ns.gz).includes(`${b.u}x`), "the host port is gone");
    }, true);
  },
});

Deno.test({
  name: "two datapath workers on two sleds: Geneve reaches the worker holding the VPC pipelines",
  ignore: !isRoot("datapath workers geneve"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const u = uniq();
    const ns = [`${u}-g1`, `${u}-g2`, `${u}-v1`, `${u}-v2`];
    const dps: AdminDatapath[] = [];
    try {
      const { configs } = twoSleds(u);
      for (const i of [0, 1]) {
        const dp = await startRuntime(configs[i], { gzNetns: ns[i], offload: true, workers: 2 });
        dps.push(dp);
        for (const c of initialChanges(configs[i])) await dp.apply(c);
      }
      plumbGuest(ns[2], `${u}v1`, "172.30.0.10");
      plumbGuest(ns[3], `${u}v2`, "172.30.0.11");
      assert.ok(await pingOk(ns[2], "172.30.0.11"), "vm-1 → vm-2 across the underlay");
      // Four flows: their outer UDP source ports differ, so a hash would spread them; the
      // fanout program hands every Geneve frame to worker 0, the only one with the pipelines.
      const r = await iperfP(ns[2], "172.30.0.11", ns[3], 4);
      assert.ok(r.gbps > 0);
      const multi = dps[1] as MultiWorkerDatapath;
      await multi.refresh();
      const geneve = await underlayRx(multi);
      assert.ok(geneve[0] > 1000, `sled 2's underlay frames per worker: ${geneve}`);
      // Worker 1 has no pipeline for vm-2: a Geneve frame reaching it would be dropped so.
      const lost = multi.workers.map((w) =>
        w.counters().find((c) =>
          c.name === "xdeno_switch_drops_total" && c.labels.reason === "no-overlay-port"
        )?.value
      );
      assert.deepEqual(lost, [0, 0], "Geneve frames dropped for want of a pipeline, per worker");
      const vm = multi.workers.map((w) => w.portStatus(`${u}v2`)?.counters.tx_frames ?? 0);
      assert.ok(vm[0] > 1000 && vm[1] === 0, `frames to vm-2 per worker: ${vm}`);
    } finally {
      for (const dp of dps) await dp.close().catch(() => {});
      for (const n of ns) delNetns(n);
    }
  },
});
