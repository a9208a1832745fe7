// The fast path no longer touches LFT pairs: a pair's idle time includes the last hit of the UFT
// entries built through it, and a dying pair removes those entries. These scenarios pin the
// lifetimes that used to follow from touching the pair on every packet.

import assert from "node:assert/strict";
import { A, DIR_IN, DIR_OUT, Layer, RES_MODIFIED } from "../../lib/engine/mod.ts";
import { flowText, mkPort, PortPool, snatLayer, udp } from "./helpers.ts";

Deno.test("a flow busy only on the fast path keeps its SNAT pair: a late first reply is translated", () => {
  const pool = new PortPool(1024, 4);
  const { port, clock } = mkPort([snatLayer(pool, "203.0.113.9")]);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:7", "1.1.1.1:53")), RES_MODIFIED);
  for (let i = 0; i < 4; i++) {
    clock.advance(30_000);
    assert.equal(port.process(DIR_OUT, udp("10.0.0.5:7", "1.1.1.1:53")), RES_MODIFIED);
    assert.ok(port.result.fastPath);
  }
  // 120 s after the pair was made, 0 s after its last use: the reply misses the inbound UFT,
  // finds the pair in the LFT, and the pair must count as alive.
  assert.equal(port.expire(), 0);
  const back = udp("1.1.1.1:53", "203.0.113.9:1024");
  assert.equal(port.process(DIR_IN, back), RES_MODIFIED);
  assert.equal(port.result.fastPath, false);
  assert.equal(flowText(back), "UDP 1.1.1.1:53 -> 10.0.0.5:7");
  assert.deepEqual(pool.released, []);
});

Deno.test("a stale UFT entry hands its last use to the pair before it goes (epoch bump)", () => {
  const pool = new PortPool(1024, 4);
  const { port, clock } = mkPort([snatLayer(pool, "203.0.113.9")]);
  port.process(DIR_OUT, udp("10.0.0.5:7", "1.1.1.1:53"));
  clock.advance(50_000);
  port.process(DIR_OUT, udp("10.0.0.5:7", "1.1.1.1:53"));
  clock.advance(50_000);
  port.bumpEpoch();
  const out = udp("10.0.0.5:7", "1.1.1.1:53");
  assert.equal(port.process(DIR_OUT, out), RES_MODIFIED);
  assert.equal(port.result.fastPath, false);
  // Same pair, same SNAT port: nothing released, nothing newly allocated.
  assert.equal(flowText(out), "UDP 203.0.113.9:1024 -> 1.1.1.1:53");
  assert.deepEqual(pool.released, []);
  assert.equal(port.layer("nat").stats.out.lftHit, 1);
  // Idle past the TTL from the last hit: the entry and the pair go, the port is released once.
  clock.advance(60_001);
  assert.equal(port.expire(), 2);
  assert.deepEqual(pool.released, [1024]);
});

Deno.test("a pair's death removes its UFT entries at once; a third user falls back to touching", () => {
  const pool = new PortPool(1024, 4);
  // Squashing every source port to 99 makes guest flows :1 and :2 share one SNAT pair, so the
  // pair has three UFT users (two outbound, one inbound): two recorded, one with `touch`.
  const squash = new Layer({
    name: "squash",
    rules: {
      out: [{ priority: 1, action: A.transform({ name: "sq", innerUlp: { srcPort: 99 } }) }],
      in: [{ priority: 1, action: A.transform({ name: "unsq", innerUlp: { dstPort: 1 } }) }],
    },
  });
  const nat = snatLayer(pool, "203.0.113.9");
  const { port, clock } = mkPort([squash, nat]);
  port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53"));
  port.process(DIR_IN, udp("1.1.1.1:53", "203.0.113.9:1024"));
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  assert.equal(nat.pairCount, 1);
  assert.equal(port.uft[DIR_OUT].size, 2);
  assert.equal(port.uft[DIR_IN].size, 1);
  const entries = [...port.uft[DIR_OUT].values(), ...port.uft[DIR_IN].values()];
  assert.deepEqual(entries.map((e) => e.touch).sort(), [false, false, true]);
  // Only the touching entry is hit for 70 s: it refreshes the pair itself.
  const third = entries.find((e) => e.touch)!;
  assert.equal(third.dir, DIR_OUT);
  for (let i = 0; i < 7; i++) {
    clock.advance(10_000);
    port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
    assert.ok(port.result.fastPath);
  }
  assert.equal(third.hits, 7);
  // The two recorded users are idle (70 s) and expire; the pair lives on through the third.
  assert.equal(port.expire(), 2);
  assert.equal(nat.pairCount, 1);
  assert.deepEqual(pool.released, []);
  // Killing the pair: the remaining (touching) entry is unusable at its next packet.
  port.clearLayerFlows("nat");
  assert.deepEqual(pool.released, [1024]);
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  assert.equal(port.result.fastPath, false);
  assert.equal(port.stats.uftStale, 1);
  // A recorded user dies with its pair immediately, without waiting for a packet.
  assert.equal(port.uft[DIR_OUT].size, 1);
  port.clearLayerFlows("nat");
  assert.equal(port.uft[DIR_OUT].size, 0);
  assert.equal(port.uft[DIR_IN].size, 0);
});
