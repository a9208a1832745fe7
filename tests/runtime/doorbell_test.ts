// The datapath Worker's doorbell (lib/runtime/doorbell.ts): the eventfd ledger on its own, and a
// Linux datapath whose loop takes no timed event-loop turn for minutes still answering control
// requests, because the admin thread rings after each message it posts.

import assert from "node:assert/strict";
import { BellWatch, Doorbell } from "../../lib/runtime/doorbell.ts";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { isRoot } from "../link/netns.ts";
import { dropBed, makeBed, pingOk } from "./bed.ts";
import { initialChanges } from "./fixture.ts";

Deno.test("doorbell: due while rings outnumber dispatched messages, in either order", () => {
  const bell = Doorbell.create();
  try {
    const w = new BellWatch(bell.fd);
    assert.equal(w.due, false);
    bell.ring();
    bell.ring();
    w.onReadable();
    assert.equal(w.due, true, "two rings read");
    w.dispatched();
    assert.equal(w.due, true, "one of two messages dispatched");
    w.dispatched();
    assert.equal(w.due, false, "both dispatched");
    w.onReadable(); // nothing rang: the read finds the counter empty (EAGAIN)
    assert.equal(w.due, false);
    // A message dispatched (in a safety turn) before its ring was read.
    w.dispatched();
    bell.ring();
    w.onReadable();
    assert.equal(w.due, false, "the late ring settles the early dispatch");
  } finally {
    bell.close();
  }
});

/** Settles with `p`, or rejects after `ms` (generous: a missed ring would wait for minutes). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

Deno.test({
  name: "doorbell: control requests are answered while the loop takes no timed turns",
  ignore: !isRoot("doorbell runtime"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const b = makeBed();
    let dp: AdminDatapath | null = null;
    // Safety turns every 10 minutes: only the doorbell can get a message dispatched in time.
    Deno.env.set("XDENO_TURN_SAFETY_MS", "600000");
    try {
      dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true, offload: false });
      const d = dp;
      for (const c of initialChanges(b.config)) await within(d.apply(c), 20_000, "apply");
      assert.ok(await pingOk(b.ns.za, "fd00:2::10"), "zone-a → rack");
      const neigh = await within(Promise.resolve(d.neighbours!()), 20_000, "neighbours");
      assert.ok(neigh.length > 0, "the ping to the rack resolved an underlay neighbour");
      // Idle datapath: the loop sleeps in poll(2) and each request must wake it.
      await new Promise((r) => setTimeout(r, 300));
      const port = `${b.u}a`;
      await within(d.setPortState!(port, "paused"), 20_000, "pause");
      assert.equal(d.portStatus(port)?.state, "paused", "the reply's snapshot has the new state");
      await new Promise((r) => setTimeout(r, 300));
      await within(d.setPortState!(port, "running"), 20_000, "resume");
      assert.ok(await pingOk(b.ns.za, "fd00:1::11"), "zone-a → zone-b after resuming");
      await within(d.close(), 20_000, "close");
      dp = null;
    } finally {
      Deno.env.delete("XDENO_TURN_SAFETY_MS");
      await dp?.close().catch(() => {});
      dropBed(b);
    }
  },
});
