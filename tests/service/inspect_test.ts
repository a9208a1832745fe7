// Capture, trace, neighbours and underlay link state over real HTTP, through the real switch on
// the memory platform (datapath in a Worker, and in-process).

import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";
import { CaptureLink } from "../../lib/link/capture.ts";
import { memoryPair } from "../../lib/link/memory.ts";
import { macToString, toHex } from "../../lib/packet/bytes.ts";
import { readPcapFile } from "../../lib/packet/pcap.ts";
import type { WorkerDatapath } from "../../lib/runtime/mod.ts";
import type { SwitchDatapath } from "../../lib/runtime/runtime.ts";
import { createDatapath } from "../../lib/service/platform.ts";
import {
  CAPTURE_MAX_BYTES,
  CAPTURE_MAX_INFLIGHT,
  type CaptureChunk,
  CaptureQueue,
} from "../../lib/switch/inspect.ts";
import type { ServiceDatapath } from "../../lib/service/switch_datapath.ts";
import { type Harness, startHarnessWith } from "../admin/helpers.ts";
import { flows, rackAdvert, YAML } from "./sled.ts";
import { lacks } from "../tools.ts";

const RACK_MAC = "a8:40:25:99:00:01";

/** Memory-platform access the test needs, the same in both modes. */
interface Wire {
  inject(link: string, frames: Uint8Array[]): Promise<number>;
  take(link: string): Promise<Uint8Array[]>;
  captures(): Promise<number>;
}

function wireOf(dp: ServiceDatapath): Wire {
  if (dp.mode === "worker") {
    const wd = dp.inner as WorkerDatapath;
    return {
      inject: (l, f) => wd.inject(l, f),
      take: (l) => wd.take(l),
      captures: async () => (await wd.describe()).captures as number,
    };
  }
  const sd = dp.inner as unknown as SwitchDatapath;
  const mem = sd.links as unknown as {
    peer(n: string): { inject(f: Uint8Array): boolean; take(): Uint8Array[] };
  };
  return {
    inject: (l, f) => Promise.resolve(f.filter((x) => mem.peer(l).inject(x)).length),
    take: (l) => Promise.resolve(mem.peer(l).take()),
    captures: () => Promise.resolve(-1),
  };
}

async function collect(w: Wire, link: string, n: number, ms = 2000): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const end = performance.now() + ms;
  while (got.length < n && performance.now() < end) {
    got.push(...await w.take(link));
    if (got.length < n) await new Promise((r) => setTimeout(r, 10));
  }
  return got;
}

async function until(cond: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Per-port counter values of `port` from the switch's snapshot. */
async function portCounters(h: Harness<ServiceDatapath>, port: string): Promise<string> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  return text.split("\n").filter((l) => l.includes(`port="${port}"`)).sort().join("\n");
}

async function sled(worker: boolean) {
  const cfg = parseConfigText(YAML);
  assert.ok(cfg.ok);
  const dp = await createDatapath(cfg.config, { worker }) as ServiceDatapath;
  const h = await startHarnessWith(dp, {}, YAML);
  return { dp, h, w: wireOf(dp) };
}

async function refresh(dp: ServiceDatapath): Promise<void> {
  if (dp.mode === "worker") await (dp.inner as WorkerDatapath).refresh();
}

for (const worker of [true, false]) {
  const mode = worker ? "worker" : "in-process";

  Deno.test({
    name: `${mode}: trace follows the live switch and pipelines and matches what it delivers`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { dp, h, w } = await sled(worker);
      try {
        const [f] = flows("vm", 1);
        await refresh(dp);
        const before = await portCounters(h, "vm-a");
        let r = await h.call("POST", "/v1/trace", {
          port: "vm-a",
          direction: "out",
          packet: toHex(f),
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        // vm-b lives on this sled: the Geneve frame loops back into vm-b's inbound pipeline.
        assert.equal(r.body.verdict, "deliver");
        assert.equal(r.body.egress.via, "vm-b");
        assert.ok(r.body.layers.some((l: { port?: string }) => l.port === "vm-b"));
        const layers = r.body.layers.map((l: { layer: string }) => l.layer);
        for (const l of ["gateway", "firewall", "router", "nat", "overlay"]) {
          assert.ok(layers.includes(l), `${l} missing from ${layers}`);
        }
        const fwOut = r.body.layers.find((l: { layer: string }) => l.layer === "firewall");
        assert.match(fwOut.decision, /^(rule|default): /);
        // Out: Geneve to this sled (fd00:1::1) carrying the guest frame.
        const encap: string = r.body.frame;
        assert.equal(encap.slice(24, 28), "86dd", "outer IPv6");
        assert.ok(encap.endsWith(toHex(f).slice(28)), "inner IPv4 packet carried unchanged");
        // No flows were made and no counters moved on the live port.
        assert.deepEqual((await h.call("GET", "/v1/ports/vm-a/flows/uft")).body, []);
        const fw = (await h.call("GET", "/v1/ports/vm-a/layers/firewall")).body;
        assert.equal(fw.flows.length, 0);
        await refresh(dp);
        assert.equal(await portCounters(h, "vm-a"), before);

        // In on vm-b: the decapsulated frame, byte for byte what the switch delivers.
        r = await h.call("POST", "/v1/trace", { port: "vm-b", direction: "in", packet: encap });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.verdict, "deliver");
        const looped = r.body.egress.frame;
        assert.equal(await w.inject("vm-a", [f]), 1);
        const [got] = await collect(w, "vm-b", 1);
        assert.ok(got, "the switch delivered nothing");
        assert.equal(r.body.egress.frame, toHex(got));
        assert.equal(looped, toHex(got));

        // A spoofed source MAC: dropped at the gateway, no frame.
        const spoof = f.slice();
        spoof[11] ^= 1;
        r = await h.call("POST", "/v1/trace", {
          port: "vm-a",
          direction: "out",
          packet: toHex(spoof),
        });
        assert.equal(r.body.verdict, "drop");
        assert.equal(r.body.frame, null);
        assert.ok(r.body.layers.some((l: { layer: string }) => l.layer === "gateway"));
        // A zone's overlay-bound frame with no overlay identity: dropped by the switch.
        r = await h.call("POST", "/v1/trace", {
          port: "zone-a",
          direction: "out",
          packet: toHex(f),
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.verdict, "drop");
        r = await h.call("POST", "/v1/trace", { port: "nope", direction: "out", packet: toHex(f) });
        assert.equal(r.status, 404);
      } finally {
        await h.close();
        await dp.close();
      }
    },
  });

  Deno.test({
    name: `${mode}: neighbours and underlay link state come from the switch`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { dp, h, w } = await sled(worker);
      try {
        let r = await h.call("GET", "/v1/underlay/links");
        assert.equal(r.status, 200);
        assert.equal(r.body.length, 1);
        assert.deepEqual(
          [r.body[0].name, r.body[0].up, r.body[0].linkLocal, r.body[0].neighbours],
          ["ul0", true, "fe80::1:1", 1],
        );
        assert.equal(typeof r.body[0].counters.tx_frames, "number");
        r = await h.call("GET", "/v1/underlay/neighbours");
        assert.equal(r.status, 200);
        assert.deepEqual(r.body.map((n: Record<string, unknown>) => [n.link, n.address, n.mac]), [
          ["ul0", "fe80::ff", null],
        ]);
        assert.notEqual(r.body[0].state, "reachable");
        // Answer the switch's solicitation: the entry becomes reachable with the rack's MAC.
        const ns = (await collect(w, "ul0", 1)).find((f) => f[54] === 135);
        assert.ok(ns, "no NS for the next hop");
        await w.inject("ul0", [rackAdvert(RACK_MAC, macToString(ns, 6))]);
        await until(async () => {
          const b = (await h.call("GET", "/v1/underlay/neighbours")).body;
          return b[0].state === "reachable";
        });
        r = await h.call("GET", "/v1/underlay/neighbours");
        assert.deepEqual([r.body[0].mac, r.body[0].routes], [RACK_MAC, 1]);
        assert.ok(r.body[0].confirmedMsAgo >= 0);
      } finally {
        await h.close();
        await dp.close();
      }
    },
  });

  Deno.test({
    name: `${mode}: port and link captures stream pcaps tshark reads`,
    ignore: lacks(`${mode} captures read by tshark`, "tshark"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const { dp, h, w } = await sled(worker);
      const dir = await Deno.makeTempDir({ prefix: "xdeno-cap-" });
      try {
        // What the switch delivered to vm-b (direction in), ending after count.
        const res = await fetch(`${h.url}/v1/ports/vm-b/capture?count=3&direction=in&seconds=5`);
        assert.equal(res.status, 200);
        const body = res.arrayBuffer();
        if (worker) await until(async () => (await w.captures()) === 1);
        const sent = flows("vm", 4);
        assert.equal(await w.inject("vm-a", sent), 4);
        const delivered = await collect(w, "vm-b", 4);
        assert.equal(delivered.length, 4);
        const bytes = new Uint8Array(await body);
        const pcap = readPcapFile(bytes);
        assert.ok("records" in pcap, JSON.stringify(pcap));
        assert.deepEqual(pcap.records.map((x) => toHex(x.data)), delivered.slice(0, 3).map(toHex));
        const file = `${dir}/vm-b.pcap`;
        await Deno.writeFile(file, bytes);
        const out = await new Deno.Command("tshark", {
          args: ["-r", file, "-T", "fields", "-e", "udp.srcport", "-e", "ip.dst"],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        assert.equal(
          new TextDecoder().decode(out.stdout).trim(),
          "20000\t172.30.0.11\n20001\t172.30.0.11\n20002\t172.30.0.11",
        );
        if (worker) await until(async () => (await w.captures()) === 0);

        // The underlay link's tx: the switch's neighbour solicitations, stopped by seconds.
        const lr = await fetch(`${h.url}/v1/links/ul0/capture?seconds=1&direction=out`);
        assert.equal(lr.status, 200);
        const lp = readPcapFile(new Uint8Array(await lr.arrayBuffer()));
        assert.ok("records" in lp);
        assert.ok(lp.records.length >= 1, "no NS captured within a second");
        assert.ok(lp.records.every((x) => x.data[54] === 135), "only NS frames on ul0");

        // A client that leaves removes the tap.
        const gone = await fetch(`${h.url}/v1/ports/vm-a/capture?seconds=60`);
        const reader = gone.body!.getReader();
        assert.equal((await reader.read()).value?.length, 24, "pcap header first");
        if (worker) await until(async () => (await w.captures()) === 1);
        await reader.cancel();
        if (worker) await until(async () => (await w.captures()) === 0);
        assert.equal((await h.call("GET", "/v1/ports/nope/capture")).status, 404);
        assert.equal((await h.call("GET", "/v1/links/nope/capture")).status, 404);
      } finally {
        await h.close();
        await dp.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("capture queue: bounded in bytes and chunks in flight; drops are counted", () => {
  const [inner, peer] = memoryPair({ name: "a" }, { name: "b" });
  const link = new CaptureLink(inner);
  const chunks: CaptureChunk[] = [];
  const q = new CaptureQueue((c) => chunks.push(c), 0);
  q.attach(link, false, true);
  assert.equal(link.tapCount, 1);
  const f = new Uint8Array(1000);
  for (let i = 0; i < CAPTURE_MAX_INFLIGHT; i++) {
    f[0] = i;
    link.sendFrame(f, 0, f.length);
    q.flush();
  }
  assert.equal(chunks.length, CAPTURE_MAX_INFLIGHT);
  assert.deepEqual(chunks.map((c) => c.data[0]), [...Array(CAPTURE_MAX_INFLIGHT).keys()]);
  // The reader acknowledges nothing: frames queue up to the byte bound, then drop.
  for (let i = 0; i < 5000; i++) link.sendFrame(f, 0, f.length);
  q.flush();
  assert.equal(chunks.length, CAPTURE_MAX_INFLIGHT, "no chunk while the reader lags");
  q.ack();
  q.flush();
  const last = chunks.at(-1)!;
  const kept = Math.floor(CAPTURE_MAX_BYTES / 1000);
  assert.deepEqual([last.meta.length / 2, last.dropped, last.done], [kept, 5000 - kept, false]);
  // Every send reached the link (its own queue holds 4096; the rest it counts as dropped).
  assert.equal(peer.take().length, 4096);
  assert.equal(link.stats.txFrames + link.stats.txDropped, CAPTURE_MAX_INFLIGHT + 5000);
  q.finish();
  assert.equal(link.tapCount, 0, "finishing detaches the queue from the link");
  q.flush();
  assert.equal(chunks.at(-1)!.done, true);
});
