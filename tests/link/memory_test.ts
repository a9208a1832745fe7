import assert from "node:assert/strict";
import { FrameBatch, HEADROOM } from "../../lib/link/link.ts";
import { memoryPair, smallBatch, waitAny } from "../../lib/link/memory.ts";

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * seed) & 0xff);

Deno.test("a memory wire carries frames both ways, batched, at HEADROOM, with stats", () => {
  const [a, b] = memoryPair({ name: "a", mac: "02:00:00:00:00:0a" }, { name: "b" });
  assert.equal(a.kind, "memory");
  assert.equal(a.fd, -1);
  assert.deepEqual([...a.mac], [2, 0, 0, 0, 0, 0x0a]);
  const tx = new FrameBatch(3, 2048);
  [60, 61, 1514].forEach((n, i) => {
    tx.bufs[i].set(bytes(n, i + 1), 10);
    tx.offs[i] = 10;
    tx.lens[i] = n;
  });
  assert.equal(a.send(tx, 3), 3);
  tx.bufs[0].fill(0); // the sender reuses its buffers at once
  const rx = smallBatch(2);
  assert.equal(b.recv(rx), 2);
  assert.equal(rx.count, 2);
  assert.deepEqual(rx.bufs[0].slice(HEADROOM, HEADROOM + rx.lens[0]), bytes(60, 1));
  assert.equal(rx.offs[1], HEADROOM);
  assert.deepEqual(rx.bufs[1].slice(HEADROOM, HEADROOM + 61), bytes(61, 2));
  assert.equal(b.recv(rx), 1);
  assert.deepEqual(rx.bufs[0].slice(HEADROOM, HEADROOM + 1514), bytes(1514, 3));
  assert.equal(b.recv(rx), 0);
  assert.deepEqual(
    [a.stats.txFrames, a.stats.txBytes, b.stats.rxFrames, b.stats.rxBytes],
    [3, 1635, 3, 1635],
  );
  assert.equal(b.inject(bytes(64, 5)), true);
  assert.deepEqual(a.take(), [bytes(64, 5)]);
});

Deno.test("frames over the MTU, on a down end or a closed wire are dropped and counted", () => {
  const [a, b] = memoryPair({ name: "a", mtu: 1500 }, { name: "b" });
  assert.equal(a.inject(new Uint8Array(1519)), false);
  assert.equal(a.inject(new Uint8Array(1518)), true);
  a.setUp(false);
  assert.equal(a.isUp(), false);
  assert.equal(a.inject(new Uint8Array(60)), false);
  a.setUp(true);
  b.setUp(false); // a down receiver loses what it had and what arrives
  assert.equal(b.pending, 0);
  a.inject(new Uint8Array(60));
  b.setUp(true);
  assert.deepEqual(b.take(), []);
  assert.equal(a.stats.txDropped, 2);
  b.close();
  assert.equal(a.isUp(), false, "the other end lost its peer");
  assert.equal(a.inject(new Uint8Array(60)), false);
  b.close();
});

Deno.test("loss drops the chosen fraction, decided by the injected random source", () => {
  let k = 0;
  const rng = () => (k++ % 4) / 4; // 0, .25, .5, .75, ...
  const [a, b] = memoryPair({ name: "a", loss: 0.5, rng }, { name: "b" });
  for (let i = 0; i < 8; i++) a.inject(Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(b.take().map((f) => f[0]), [2, 3, 6, 7]);
  assert.equal(a.stats.txFrames, 8, "a lost frame still left the sender");
});

Deno.test("delay holds frames until the clock passes it; a full queue drops", () => {
  const clock = { t: 0 };
  const [a, b] = memoryPair(
    { name: "a", delayMs: 5, clock: () => clock.t },
    { name: "b", clock: () => clock.t, queueLimit: 2 },
  );
  a.inject(Uint8Array.of(1));
  clock.t = 3;
  a.inject(Uint8Array.of(2));
  a.inject(Uint8Array.of(3));
  assert.equal(b.pending, 2);
  assert.equal(b.stats.rxErrors, 1);
  assert.equal(b.readable(), false);
  clock.t = 5;
  assert.deepEqual(b.take(), [Uint8Array.of(1)]);
  clock.t = 8;
  assert.deepEqual(b.take(), [Uint8Array.of(2)]);
});

Deno.test("waitAny resolves on arrival, after a real delay, or false on timeout", async () => {
  const [a, b] = memoryPair({ name: "a" }, { name: "b" });
  const [c, d] = memoryPair({ name: "c", delayMs: 30 }, { name: "d" });
  assert.equal(await waitAny([b, d], 20), false);
  const p = waitAny([b, d], 1000);
  a.inject(Uint8Array.of(7));
  assert.equal(await p, true);
  b.take();
  const t0 = performance.now();
  c.inject(Uint8Array.of(8));
  assert.equal(await d.waitReadable(1000), true);
  assert.ok(performance.now() - t0 >= 25, "woke before the delay elapsed");
  assert.deepEqual(d.take(), [Uint8Array.of(8)]);
});

Deno.test("waitAny does not say readable before the link's own clock reaches the frame", async () => {
  // A clock coarser than timers: a timer set for the delay fires while this clock still reads
  // the send time, as performance.now() can lag a millisecond timer by a fraction.
  const coarse = () => Math.floor(performance.now() / 100) * 100;
  const [c, d] = memoryPair({ name: "c", delayMs: 1, clock: coarse }, { name: "d", clock: coarse });
  c.inject(Uint8Array.of(9));
  assert.equal(await d.waitReadable(1000), true);
  assert.deepEqual(d.take(), [Uint8Array.of(9)]);
});
