// A seeded byte stream across a path, checked by SHA-256 at the far end (the receiving kernels
// trust partial checksums and GSO frames, so a wrong byte shows here), and xdeno's event
// counters read from a sled's admin API. Shared by tests/e2e/gro_test.ts and uso_test.ts.
import assert from "node:assert/strict";
import { run, sleep, spawn } from "../../lib/testbed/exec.ts";
import type { Endpoints } from "../../lib/testbed/measure.ts";
import { adminUrl } from "../../lib/testbed/xdeno_sut.ts";
import type { Topology } from "../../lib/testbed/topology.ts";

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
export async function assertSameBytes(ep: Endpoints): Promise<void> {
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
export async function events(t: Topology, n: number, event = "gro-merged"): Promise<number> {
  const s = t.plan.sleds[n - 1];
  const r = await run(["curl", "-sf", `${adminUrl(s.n)}/metrics`], { ns: s.ns });
  const re = new RegExp(`^xdeno_switch_events_total\\{[^}]*${event}[^}]*\\} (\\d+)`, "m");
  return Number(r.stdout.match(re)?.[1] ?? 0);
}
