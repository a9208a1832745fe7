// The adaptive spin window, driven by a made-up clock: it grows to cover a steady gap between
// frames while traffic is sparse, stays at the fixed minimum for a stream that keeps the loop
// busy and for gaps no spin within the cap covers, and is zero while idle. No real time is involved, so every
// expectation is exact.
import assert from "node:assert/strict";
import { SpinPolicy } from "../../lib/link/spin.ts";

/** A policy with its own tuning and a clock (ms) the test moves. */
function setup(minUs: number, maxUs: number) {
  const tuning = { minUs, maxUs };
  const p = new SpinPolicy(tuning);
  let now = 1000;
  const s = {
    p,
    tuning,
    /** The loop goes idle, a frame ends the stretch `gapUs` later, the loop works `busyUs`. */
    gap(gapUs: number, busyUs = 0) {
      p.idle(now);
      now += gapUs / 1000;
      p.found(now);
      now += busyUs / 1000;
    },
    /** `gapUs` again and again, `n` times, each followed by `busyUs` of work. */
    gaps(gapUs: number[], n: number, busyUs = 0) {
      for (let i = 0; i < n; i++) for (const g of gapUs) s.gap(g, busyUs);
    },
    /** The loop goes idle and its wait times out after `ms`. */
    timeout(ms: number) {
      p.idle(now);
      now += ms;
      p.timedOut();
    },
  };
  return s;
}

Deno.test("spin: nothing before the first frame, nothing after a wait that timed out", () => {
  const s = setup(50, 2000);
  assert.equal(s.p.windowUs(), 0);
  s.gaps([900], 8);
  assert.equal(s.p.windowUs(), 1125);
  s.timeout(10);
  assert.equal(s.p.windowUs(), 0, "idle: the next wait sleeps at once");
});

Deno.test("spin: a ping a ms (request after 900 µs, reply 30 µs later) is covered", () => {
  const s = setup(50, 2000);
  s.gap(900);
  assert.equal(s.p.windowUs(), 50, "one gap is not yet a pattern: eight are");
  s.gaps([30, 900], 3);
  s.gap(30);
  assert.equal(s.p.windowUs(), 900 * 1.25);
  s.gap(950);
  assert.equal(s.p.windowUs(), 950 * 1.25);
});

Deno.test("spin: a stream that keeps the loop busy keeps the fixed minimum despite its pauses", () => {
  const s = setup(50, 2000);
  // idle 630 µs of every 1430: the loop works more than it waits
  s.gaps([10, 10, 10, 600], 2, 200);
  assert.equal(s.p.windowUs(), 50);
  // idle 600 of every 620 µs: sparse
  s.gaps([600], 8, 20);
  assert.equal(s.p.windowUs(), 750);
  // three quarters idle is still sparse (the span runs from the oldest gap's end to the newest's)
  s.gaps([300], 8, 100);
  assert.equal(s.p.windowUs(), 375);
  s.gaps([300], 8, 101);
  assert.equal(s.p.windowUs(), 50);
});

Deno.test("spin: a gap the cap cannot cover is ignored, the steady gaps around it still count", () => {
  const s = setup(50, 2000);
  s.gaps([800], 7);
  s.gap(5000); // a pause: no spin within 2000 µs would have caught it
  assert.equal(s.p.windowUs(), 1000);
  // only uncoverable gaps: back to the minimum, not the cap
  s.gaps([7000], 8);
  assert.equal(s.p.windowUs(), 50);
});

Deno.test("spin: old gaps are forgotten after eight frames", () => {
  const s = setup(50, 2000);
  s.gap(1200);
  s.gaps([400], 7);
  assert.equal(s.p.windowUs(), 1500, "still remembered");
  s.gap(400);
  assert.equal(s.p.windowUs(), 500);
});

Deno.test("spin: a timeout between frames makes the gap the whole idle stretch", () => {
  const s = setup(50, 20_000);
  s.gaps([100], 8);
  s.timeout(10); // the loop re-waits; the idle stretch goes on
  s.p.idle(99_999); // a later wait does not restart the stretch
  assert.equal(s.p.windowUs(), 0);
  s.gap(2000); // a frame 10 ms + 2 ms after the stretch began
  assert.equal(s.p.windowUs(), 12_000 * 1.25);
});

Deno.test("spin: a look that finds frames between batches records no gap", () => {
  const s = setup(50, 2000);
  s.gaps([900], 8);
  s.p.found(5000); // no idle stretch ran: busy, nothing to learn
  assert.equal(s.p.windowUs(), 1125);
});

Deno.test("spin: cap at or below the minimum turns the adaptive part off; minimum 0 turns all off", () => {
  const s = setup(50, 0);
  s.gaps([900], 8);
  assert.equal(s.p.windowUs(), 50);
  s.tuning.maxUs = 50;
  assert.equal(s.p.windowUs(), 50);
  s.tuning.maxUs = 2000;
  assert.equal(s.p.windowUs(), 1125, "the tuning is read live");
  s.tuning.minUs = 0;
  assert.equal(s.p.windowUs(), 0);
});
