// A seeded byte stream across a path, checked by SHA-256 at the far end (the receiving kernels
// trust partial checksums and GSO frames, so a wrong byte shows here), and xdeno's event
// counters read from a sled's admin API. Shared by tests/e2e/gro_test.ts and uso_test.ts.
import assert from "node:assert/strict";
import { run, sleep, spawn } from "../../lib/testbed/exec.ts";
import type { Endpoints } from "../../lib/testbed/measure.ts";
import { adminUrl } from "../../lib/testbed/xdeno_sut.ts";
import type { Topology } from "../../lib/testbed/topology.ts";
import { streamClient, streamServer } from "../link/stream.ts";

const PORT = 5599;
const MB = 24;

/** Moves the stream across `ep` and asserts both ends saw the same bytes. */
export async function assertSameBytes(ep: Endpoints): Promise<void> {
  const server = spawn(["python3", "-c", streamServer("::", PORT)], ep.server);
  try {
    await sleep(500);
    const sent = await run(["python3", "-c", streamClient(ep.dst, PORT, MB)], {
      ns: ep.client,
      timeoutMs: 60000,
    });
    const got = await server.wait();
    assert.equal(got.stdout.trim(), sent.stdout.trim(), `${ep.client} → ${ep.dst}: ${got.stderr}`);
    assert.match(sent.stdout, new RegExp(`^${MB << 20} [0-9a-f]{64}`));
  } finally {
    await server.stop();
  }
}

/** Sum of xdeno's `event` events on sled `n` (Prometheus text of its admin API). */
export async function events(t: Topology, n: number, event = "gro-merged"): Promise<number> {
  const s = t.plan.sleds[n - 1];
  const r = await run(["curl", "-sf", `${adminUrl(s.n)}/metrics`], { ns: s.ns });
  const re = new RegExp(`^xdeno_switch_events_total\\{[^}]*${event}[^}]*\\} (\\d+)`, "m");
  return Number(r.stdout.match(re)?.[1] ?? 0);
}
