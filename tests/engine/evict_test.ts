import assert from "node:assert/strict";
import { DIR_IN, DIR_OUT, Layer, type Port, RES_DROP, RES_MODIFIED } from "../../lib/engine/mod.ts";
import { mkPort, PortPool, snatLayer, tcp, udp } from "./helpers.ts";

function fw(): Layer {
  return new Layer({ name: "fw", defaults: { in: "deny", out: "statefulAllow" } });
}

function established(port: Port, n: number) {
  const g = `10.0.0.5:${n}`, r = "1.2.3.4:80";
  assert.equal(port.process(DIR_OUT, tcp(g, r, "S", { seq: 1 })), RES_MODIFIED);
  assert.equal(port.process(DIR_IN, tcp(r, g, "SA", { seq: 9, ack: 2 })), RES_MODIFIED);
}

Deno.test("full TCP table (upstream TcpExpiry): fresh handshakes and established flows idle < 60 s are protected; then the oldest half-open, then the longest-idle established", () => {
  const { port, clock } = mkPort([fw()], { tcpLimit: 3 });
  established(port, 1);
  clock.advance(10);
  port.process(DIR_OUT, tcp("10.0.0.5:2", "1.2.3.4:80", "S"));
  clock.advance(10);
  port.process(DIR_OUT, tcp("10.0.0.5:3", "1.2.3.4:80", "S"));
  clock.advance(10);
  // Every flow is within its grace period (half the 5 s handshake TTL): the new one is refused.
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:4", "1.2.3.4:80", "S")), RES_DROP);
  assert.equal(port.result.reason, "tcp table full");
  assert.equal(port.stats.tcpFull, 1);
  assert.equal(port.stats.tcpEvictions, 0);
  // Past 2.5 s idle the handshakes become evictable, the longest idle first.
  clock.advance(2_600);
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:4", "1.2.3.4:80", "S")), RES_MODIFIED);
  assert.equal(port.stats.tcpEvictions, 1);
  const flows = () => port.dumpTcp().map((f) => (f as { flow: string }).flow).sort();
  assert.deepEqual(flows(), [
    "TCP 10.0.0.5:1 -> 1.2.3.4:80",
    "TCP 10.0.0.5:3 -> 1.2.3.4:80",
    "TCP 10.0.0.5:4 -> 1.2.3.4:80",
  ]);
  // The evicted flow's UFT entry went with it.
  assert.equal(port.uft[DIR_OUT].size, 3);
  // Established flows idle less than 60 s are protected: the new flow is dropped.
  for (const n of [3, 4]) {
    port.process(DIR_IN, tcp("1.2.3.4:80", `10.0.0.5:${n}`, "SA", { ack: 1001 }));
  }
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:5", "1.2.3.4:80", "S")), RES_DROP);
  assert.equal(port.stats.tcpFull, 2);
  assert.equal(port.stats.drops.get("tcp table full"), 2);
  assert.equal(port.tcp.size, 3);
  // Idle 60 s, established flows are evictable at the lowest priority; flow 1 is the oldest.
  clock.advance(60_000);
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:5", "1.2.3.4:80", "S")), RES_MODIFIED);
  assert.deepEqual(flows(), [
    "TCP 10.0.0.5:3 -> 1.2.3.4:80",
    "TCP 10.0.0.5:4 -> 1.2.3.4:80",
    "TCP 10.0.0.5:5 -> 1.2.3.4:80",
  ]);
});

Deno.test("full TCP table: a dead flow is reclaimed before an older live misbehaving one", () => {
  const { port, clock } = mkPort([fw()], { tcpLimit: 2 });
  established(port, 1);
  port.process(DIR_OUT, tcp("10.0.0.5:1", "1.2.3.4:80", "FA", { seq: 2, ack: 10 }));
  port.process(DIR_IN, tcp("1.2.3.4:80", "10.0.0.5:1", "FA", { seq: 10, ack: 3 }));
  assert.equal((port.dumpTcp()[0] as { state: string }).state, "TIME_WAIT");
  clock.advance(100_000);
  port.process(DIR_OUT, tcp("10.0.0.5:2", "1.2.3.4:80", "S"));
  clock.advance(6_000); // flow 2 (half-open, 5 s) is dead; flow 1 (TIME_WAIT, 120 s) is not
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:3", "1.2.3.4:80", "S")), RES_MODIFIED);
  assert.equal(port.stats.tcpEvictions, 0);
  const flows = port.dumpTcp().map((f) => (f as { flow: string }).flow).sort();
  assert.deepEqual(flows, ["TCP 10.0.0.5:1 -> 1.2.3.4:80", "TCP 10.0.0.5:3 -> 1.2.3.4:80"]);
});

Deno.test("full UFT: expired entries go first; healthy UDP flows are never evicted", () => {
  const { port, clock } = mkPort([new Layer({ name: "l" })], { uftLimit: 2 });
  port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53"));
  clock.advance(30_000);
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:3", "1.1.1.1:53")), RES_DROP);
  assert.equal(port.result.reason, "uft full");
  assert.equal(port.stats.uftFull, 1);
  clock.advance(30_001); // flow 1 is now dead, flow 2 is not
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:3", "1.1.1.1:53")), RES_MODIFIED);
  const flows = port.dumpUft(DIR_OUT).map((e) => (e as { flow: string }).flow).sort();
  assert.deepEqual(flows, ["UDP 10.0.0.5:2 -> 1.1.1.1:53", "UDP 10.0.0.5:3 -> 1.1.1.1:53"]);
});

Deno.test("full UFT with a half-open TCP flow: it is evicted, not the UDP flow", () => {
  const { port, clock } = mkPort([new Layer({ name: "l" })], { uftLimit: 2 });
  port.process(DIR_OUT, tcp("10.0.0.5:7", "1.1.1.1:80", "S"));
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  // A handshake is protected for half its 5 s TTL.
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:3", "1.1.1.1:53")), RES_DROP);
  clock.advance(2_501);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:3", "1.1.1.1:53")), RES_MODIFIED);
  assert.equal(port.stats.uftEvictions, 1);
  assert.equal(port.tcp.size, 0);
  assert.equal(port.uft[DIR_OUT].size, 2);
});

Deno.test("full LFT: a new pair is refused and its resource released; misbehaving TCP pairs evicted", () => {
  const pool = new PortPool(1024, 10);
  const nat = snatLayer(pool, "203.0.113.9");
  const small = new Layer({
    name: "natsmall",
    lftLimit: 2,
    rules: { out: nat.rules[DIR_OUT].list.map((r) => r.spec) },
  });
  const { port, clock } = mkPort([small]);
  port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53"));
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:3", "1.1.1.1:53")), RES_DROP);
  assert.equal(port.result.reason, "lft full");
  assert.equal(port.result.layer, "natsmall");
  assert.equal(small.stats.lftFull, 1);
  assert.deepEqual(pool.released, [1026]);
  // Replace one UDP pair by a half-open TCP flow, then a new flow evicts that pair.
  clock.advance(60_001);
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53")); // flow 2 refreshed (UFT entry dead → rebuilt)
  port.process(DIR_OUT, tcp("10.0.0.5:9", "1.1.1.1:80", "S")); // flow 1's pair was dead: reclaimed
  assert.equal(small.pairCount, 2);
  const before = pool.released.length;
  clock.advance(2_501); // past the handshake's grace period
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:4", "1.1.1.1:53")), RES_MODIFIED);
  assert.equal(small.stats.lftEvictions, 1);
  assert.equal(pool.released.length, before + 1);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:5", "1.1.1.1:53")), RES_DROP);
  assert.equal(port.result.reason, "lft full");
});

Deno.test("a fruitless victim scan is not repeated for every new flow (1 s backoff)", () => {
  const { port, clock } = mkPort([new Layer({ name: "l" })], { uftLimit: 2 });
  port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53"));
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  for (let sp = 3; sp < 10; sp++) {
    assert.equal(port.process(DIR_OUT, udp(`10.0.0.5:${sp}`, "1.1.1.1:53")), RES_DROP);
  }
  assert.equal(port.stats.uftFull, 7);
  assert.equal(port.stats.evictScans, 1);
  clock.advance(999);
  port.process(DIR_OUT, udp("10.0.0.5:10", "1.1.1.1:53"));
  assert.equal(port.stats.evictScans, 1);
  clock.advance(1);
  port.process(DIR_OUT, udp("10.0.0.5:11", "1.1.1.1:53"));
  assert.equal(port.stats.evictScans, 2);
  // Room made without a scan is used at once, backoff or not.
  port.clearFlows();
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:12", "1.1.1.1:53")), RES_MODIFIED);
  // A scan that frees room clears the backoff: the next full-table miss scans again.
  port.process(DIR_OUT, udp("10.0.0.5:13", "1.1.1.1:53"));
  clock.advance(60_001);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:14", "1.1.1.1:53")), RES_MODIFIED);
  assert.equal(port.stats.evictScans, 3);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:15", "1.1.1.1:53")), RES_MODIFIED);
  assert.equal(port.stats.evictScans, 3);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:16", "1.1.1.1:53")), RES_DROP);
  assert.equal(port.stats.evictScans, 4);
});

Deno.test("full LFT after a connection storm: one scan reclaims every reset flow's pair, live ones stay", () => {
  const small = new Layer({
    name: "fwsmall",
    lftLimit: 5,
    defaults: { in: "deny", out: "statefulAllow" },
  });
  const { port } = mkPort([small]);
  established(port, 100); // a live connection: protected
  for (let n = 1; n <= 4; n++) {
    established(port, n);
    assert.equal(
      port.process(DIR_OUT, tcp(`10.0.0.5:${n}`, "1.2.3.4:80", "R", { seq: 2 })),
      RES_MODIFIED,
    );
  }
  assert.equal(small.pairCount, 5);
  // Four new connections fill the room of the four reset ones: one victim scan, not four.
  for (let n = 5; n <= 8; n++) {
    assert.equal(port.process(DIR_OUT, tcp(`10.0.0.5:${n}`, "1.2.3.4:80", "S")), RES_MODIFIED);
  }
  assert.equal(port.stats.evictScans, 1);
  assert.equal(small.stats.lftEvictions, 4);
  assert.equal(small.pairCount, 5);
  // The live connection kept its pair: its reply still passes the default-deny inbound.
  assert.equal(
    port.process(DIR_IN, tcp("1.2.3.4:80", "10.0.0.5:100", "A", { seq: 10, ack: 2 })),
    RES_MODIFIED,
  );
  // With only live flows left, a new one is refused.
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:9", "1.2.3.4:80", "S")), RES_DROP);
  assert.equal(port.result.reason, "lft full");
});
