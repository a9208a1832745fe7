// End-to-end through the switch under test (issue 14): zones without TSO (the switch-mode
// topology's default: tx offload off) send a known byte stream zone→zone and zone→sled2 zone;
// the receiver's hash must match the sender's. xdeno merges such segments into GSO frames on
// these paths (lib/switch/gro.ts), so the receiving kernels — which trust the partial checksum
// — are the oracle that every merged byte landed where it belongs; xdeno's counters must show
// that merging happened.
import assert from "node:assert/strict";
import { run, sleep, spawn } from "../../lib/testbed/exec.ts";
import { shapes } from "../../lib/testbed/paths.ts";
import type { Endpoints } from "../../lib/testbed/measure.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { adminUrl } from "../../lib/testbed/xdeno_sut.ts";
import type { Topology } from "../../lib/testbed/topology.ts";
import { e2eSkip, sut, withSwitch } from "./harness.ts";

const why = await e2eSkip();
const PORT = 5599;
const MB = 24;

// Receives one connection and prints its byte count and SHA-256.
const SERVER = `
import socket, hashlib
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", ${PORT})); s.listen(1)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(1 << 16)
    if not d: break
    h.update(d); n += len(d)
print(n, h.hexdigest())
`;

// Sends MB MiB of seeded pseudo-random bytes in uneven writes and prints count and SHA-256.
const client = (dst: string) => `
import socket, hashlib, random
data = random.Random(14).randbytes(${MB} << 20)
c = socket.create_connection(("${dst}", ${PORT}))
i = 0; r = random.Random(5)
while i < len(data):
    k = r.randint(1, 200000); c.sendall(data[i:i + k]); i += k
c.close()
print(len(data), hashlib.sha256(data).hexdigest())
`;

/** Moves the stream across `ep` and asserts both ends saw the same bytes. */
async function assertSameBytes(ep: Endpoints): Promise<void> {
  const server = spawn(["python3", "-c", SERVER], ep.server);
  try {
    await sleep(500);
    const sent = await run(["python3", "-c", client(ep.dst)], { ns: ep.client, timeoutMs: 60000 });
    const got = await server.wait();
    assert.equal(got.stdout.trim(), sent.stdout.trim(), `${ep.client} → ${ep.dst}: ${got.stderr}`);
    assert.match(sent.stdout, new RegExp(`^${MB << 20} [0-9a-f]{64}`));
  } finally {
    await server.stop();
  }
}

/** Sum of xdeno's `event` events on sled `n` (Prometheus text of its admin API). */
async function events(t: Topology, n: number, event = "gro-merged"): Promise<number> {
  const s = t.plan.sleds[n - 1];
  const r = await run(["curl", "-sf", `${adminUrl(s.n)}/metrics`], { ns: s.ns });
  const re = new RegExp(`^xdeno_switch_events_total\\{[^}]*${event}[^}]*\\} (\\d+)`, "m");
  return Number(r.stdout.match(re)?.[1] ?? 0);
}

Deno.test({
  name: `e2e (${sut.name}): zones without TSO, zone→zone and zone→sled2 zone, every byte arrives`,
  ignore: !!why || !carries(sut, "l2") || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const sh = shapes(t);
      const before = await events(t, 1);
      await assertSameBytes(sh.l2);
      const afterL2 = await events(t, 1);
      await assertSameBytes(sh.routed);
      if (sut.name === "xdeno") {
        assert.ok(afterL2 > before, `sled1 merged nothing zone→zone (${before} → ${afterL2})`);
        const afterRouted = await events(t, 1);
        assert.ok(afterRouted > afterL2, `sled1 merged nothing towards the underlay`);
      }
    });
  },
});

Deno.test({
  name: `e2e (${sut.name}): vms without TSO, vm→sled2 vm over the overlay, every byte arrives`,
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const before = sut.name === "xdeno" ? await events(t, 1, "gro-out") : 0;
      await assertSameBytes(shapes(t).overlay);
      if (sut.name === "xdeno") {
        const after = await events(t, 1, "gro-out");
        assert.ok(
          after > before,
          `sled1 merged nothing before the pipeline (${before} → ${after})`,
        );
      }
    });
  },
});
