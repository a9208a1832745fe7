// The ready set: a pass of poll(true) reads only the links the waiter found readable, links
// without an fd, and links whose last batch was full; run() does not starve a quiet link behind
// one that fills every batch.
import assert from "node:assert/strict";
import type { FrameBatch } from "../../lib/link/link.ts";
import { type MemoryLink, memoryPair } from "../../lib/link/memory.ts";
import type { LinkWait } from "../../lib/link/link.ts";
import { GW_MAC, HOST, type Sled, sled, udp6 } from "./harness.ts";
import { WrappedLink } from "./wrapped_link.ts";
import { turnDue, TurnPacer } from "../../lib/switch/ready.ts";

/** A memory link that claims an fd (as a TAP would), counting reads. */
class PolledLink extends WrappedLink {
  override readonly kind = "polled";
  reads = 0;
  /** Called before each read (to keep the link busy). */
  beforeRead: () => void = () => {};
  constructor(inner: MemoryLink, readonly polledFd: number) {
    super(inner);
  }
  override get fd() {
    return this.polledFd;
  }
  override recv(b: FrameBatch, max?: number): number {
    this.reads++;
    this.beforeRead();
    return this.inner.recv(b, max);
  }
}

/** A PolledLink that reads like a TAP: one syscall per frame, `max` honoured. */
class BoundedLink extends PolledLink {
  readonly boundedRecv = true;
  /** The `max` of every read. */
  maxes: (number | undefined)[] = [];
  /** Reads a TAP would have ended with EAGAIN: fewer frames than asked for. */
  emptyReads = 0;
  override recv(b: FrameBatch, max?: number): number {
    this.maxes.push(max);
    const n = super.recv(b, max);
    if (n < (max ?? b.capacity)) this.emptyReads++;
    return n;
  }
}

const ZC = { name: "zone-c", mac: "a8:40:25:00:01:0c", ip: "fd00:1::12" };
const ZD = { name: "zone-d", mac: "a8:40:25:00:01:0d", ip: "fd00:1::13" };

/** Adds a zone behind a PolledLink; returns the link and the zone's end. */
function addPolled(s: Sled, z: typeof ZC, fd: number): { link: PolledLink; zone: MemoryLink } {
  const [mine, far] = memoryPair(
    { name: z.name, mtu: 1500, clock: () => s.clock.t },
    { name: `${z.name}-zone`, mac: z.mac, mtu: 1500, clock: () => s.clock.t },
  );
  const link = new PolledLink(mine, fd);
  s.sw.addPort({ name: z.name, kind: "system", link, mac: z.mac, underlay: [z.ip] });
  return { link, zone: far };
}

const toHost = (z: typeof ZC, sport: number) => udp6(z.mac, GW_MAC, z.ip, HOST.ip, { sport });

Deno.test("poll(true) reads only flagged links, memory links always, full batches again", () => {
  const s = sled(); // batch 8; ports xde0, zone-a, zone-b, then ours (3, 4); underlay 5, 6
  const c = addPolled(s, ZC, 1000), d = addPolled(s, ZD, 1001);
  const host = s.zones[HOST.name];
  assert.deepEqual([...s.sw.readyFlags()], [1, 1, 1, 1, 1, 1, 1], "a new link set: read all");
  s.sw.poll(true);
  assert.deepEqual([c.link.reads, d.link.reads], [1, 1]);
  assert.deepEqual([...s.sw.readyFlags()], [1, 1, 1, 0, 0, 1, 1], "drained polled links drop out");

  c.zone.inject(toHost(ZC, 1));
  s.zones["zone-a"].inject(udp6("a8:40:25:00:01:0a", GW_MAC, "fd00:1::10", HOST.ip));
  s.sw.poll(true);
  assert.equal(c.link.reads, 1, "not flagged: not read");
  assert.equal(host.take().length, 1, "the memory link's frame went through");

  s.sw.readyFlags()[3] = 1; // what the waiter does when poll(2) says so
  s.sw.poll(true);
  assert.deepEqual([c.link.reads, d.link.reads, host.take().length], [2, 1, 1]);

  for (let i = 0; i < 10; i++) c.zone.inject(toHost(ZC, 100 + i));
  s.sw.readyFlags()[3] = 1;
  s.sw.poll(true);
  assert.equal(s.sw.readyFlags()[3], 1, "a full batch keeps the link for the next pass");
  s.sw.poll(true);
  assert.equal(s.sw.readyFlags()[3], 0);
  assert.equal(host.take().length, 10);

  d.zone.inject(toHost(ZD, 7));
  s.sw.poll();
  assert.equal(host.take().length, 1, "poll() without the ready set reads every link");
});

Deno.test("poll(true): a lone frame on a TAP-like link leaves before the read that finds it empty", () => {
  const s = sled(); // batch 8; zone-c is link 3
  const [mine, far] = memoryPair(
    { name: ZC.name, mtu: 1500, clock: () => s.clock.t },
    { name: `${ZC.name}-zone`, mac: ZC.mac, mtu: 1500, clock: () => s.clock.t },
  );
  const c = new BoundedLink(mine, 1000);
  s.sw.addPort({ name: ZC.name, kind: "system", link: c, mac: ZC.mac, underlay: [ZC.ip] });
  const host = s.zones[HOST.name];
  s.sw.poll(true);
  host.take();
  c.maxes = [], c.emptyReads = 0;

  far.inject(toHost(ZC, 1));
  s.sw.readyFlags()[3] = 1; // poll(2) found it readable
  s.sw.poll(true);
  assert.deepEqual(c.maxes, [1], "asked for one frame");
  assert.equal(c.emptyReads, 0, "no empty read yet");
  assert.equal(host.take().length, 1, "the frame left in the pass that read it");
  assert.equal(s.sw.readyFlags()[3], 1, "read again next pass: more may wait");
  s.sw.poll(true);
  assert.deepEqual([c.maxes.length, c.emptyReads], [2, 1], "the empty read came a pass later");
  assert.equal(s.sw.readyFlags()[3], 0, "found empty: left to poll(2)");

  for (let i = 0; i < 20; i++) far.inject(toHost(ZC, 100 + i));
  s.sw.readyFlags()[3] = 1;
  c.maxes = [];
  for (let i = 0; i < 10 && s.sw.readyFlags()[3] === 1; i++) s.sw.poll(true);
  assert.deepEqual(c.maxes, [1, 2, 4, 8, 8], "a backlog doubles the ask up to the batch");
  assert.equal(host.take().length, 20);

  s.zones["zone-a"].inject(udp6("a8:40:25:00:01:0a", GW_MAC, "fd00:1::10", HOST.ip));
  c.maxes = [];
  s.sw.poll(false);
  assert.deepEqual(c.maxes, [8], "poll() without the ready set asks for the whole batch");
});

Deno.test("run: a link that fills every batch does not starve a quiet one", async () => {
  const s = sled();
  const c = addPolled(s, ZC, 1000), d = addPolled(s, ZD, 1001);
  const host = s.zones[HOST.name];
  s.sw.poll(true); // both drained: flags 0
  const stop = { stopped: false };
  let sport = 0;
  c.link.beforeRead = () => {
    // twice a batch: frames always wait on zone-c, so every pass finds it full
    for (let i = 0; i < 16; i++) c.zone.inject(toHost(ZC, 1000 + (sport++ & 0x3ff)));
    if (c.link.reads > 50) stop.stopped = true;
  };
  d.zone.inject(toHost(ZD, 7));
  // The waiter's view of poll(2): a link is readable while frames wait on it.
  const wait: LinkWait = Object.assign((_: number) => {
    const f = s.sw.readyFlags();
    f[3] = c.link.inner.pending > 0 ? 1 : 0;
    f[4] = d.link.inner.pending > 0 ? 1 : 0;
  }, { marksReady: true });
  s.sw.readyFlags()[3] = 1;
  const guard = setTimeout(() => stop.stopped = true, 5000); // a bug here must not hang the suite
  await s.sw.run(stop, wait);
  clearTimeout(guard);
  const got = host.take().filter((f) => f[54] === 0 && f[55] === 7); // UDP source port 7
  assert.equal(got.length, 1, "zone-d's frame was read while zone-c kept every batch full");
  assert.ok(d.link.reads >= 2);
});

Deno.test("run: the frame that ends a wait is forwarded before the event loop gets a turn", async () => {
  const s = sled();
  const host = s.zones[HOST.name];
  const stop = { stopped: false };
  const t = { ms: 0 };
  let seenAtTurn = -1;
  let waits = 0;
  // The wait a frame ends: it arrives while the loop sleeps, and by then a turn is due (6 ms
  // since the last one, over yieldMs 5). A message queued now is delivered at the next turn.
  const wait: LinkWait = (_: number) => {
    if (waits++ > 0) return;
    s.zones["zone-a"].inject(udp6("a8:40:25:00:01:0a", GW_MAC, "fd00:1::10", HOST.ip));
    t.ms += 6;
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      seenAtTurn = host.take().length;
      stop.stopped = true;
      ch.port1.close();
    };
    ch.port2.postMessage(0);
    ch.port2.close();
  };
  s.sw.poll(); // drain start-up traffic (router advertisements), so the loop starts idle
  host.take();
  const guard = setTimeout(() => stop.stopped = true, 5000); // a bug must not hang the suite
  await s.sw.run(stop, wait, 10, { yieldMs: 5, clock: () => t.ms });
  clearTimeout(guard);
  assert.equal(seenAtTurn, 1, "the frame reached the host zone before the turn");
});

Deno.test("turnDue: idle passes yield after yieldMs, busy ones only after twice that", () => {
  assert.deepEqual(
    [turnDue(0, 4, 5), turnDue(0, 5, 5), turnDue(1, 5, 5), turnDue(32, 9, 5), turnDue(1, 10, 5)],
    [false, true, false, false, true],
  );
});

Deno.test("TurnPacer: a due bell yields at once; without one only the interval does", () => {
  const t = { ms: 0 };
  const bell = { due: false };
  const p = new TurnPacer({ yieldMs: 250, bell, clock: () => t.ms });
  t.ms = 100;
  assert.equal(p.due(0), false, "idle, bell quiet, 100 of 250 ms");
  bell.due = true;
  assert.equal(p.due(32), true, "a due bell yields even under load");
  p.taken();
  bell.due = false;
  t.ms = 349;
  assert.equal(p.due(0), false);
  t.ms = 350;
  assert.equal(p.due(0), true, "the safety turn after yieldMs");
});
