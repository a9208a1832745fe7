import assert from "node:assert/strict";
import { DIR_IN, DIR_OUT, Layer, type Port, RES_MODIFIED } from "../../lib/engine/mod.ts";
import { mkPort, tcp } from "./helpers.ts";

const G = "10.0.0.5:40000", R = "93.184.216.34:80";

function setup() {
  return mkPort([new Layer({ name: "fw", defaults: { in: "deny", out: "statefulAllow" } })]);
}

function state(port: Port): string | undefined {
  return (port.dumpTcp()[0] as { state?: string } | undefined)?.state;
}

function send(port: Port, dir: 0 | 1, flags: string, seq: number, ack = 0, data = 0) {
  const p = dir === DIR_OUT
    ? tcp(G, R, flags, { seq, ack, data })
    : tcp(R, G, flags, { seq, ack, data });
  assert.equal(port.process(dir, p), RES_MODIFIED, `${flags} ${port.result.reason}`);
  return port.result.fastPath;
}

Deno.test("active open and close: SYN_SENT → ESTABLISHED → FIN_WAIT_1/2 → TIME_WAIT → expiry", () => {
  const { port, clock } = setup();
  send(port, DIR_OUT, "S", 100);
  assert.equal(state(port), "SYN_SENT");
  send(port, DIR_IN, "SA", 500, 101);
  assert.equal(state(port), "ESTABLISHED");
  assert.ok(send(port, DIR_OUT, "A", 101, 501));
  assert.ok(send(port, DIR_OUT, "PA", 101, 501, 20));
  send(port, DIR_OUT, "FA", 121, 501);
  assert.equal(state(port), "FIN_WAIT_1");
  // An ACK that does not cover the FIN leaves the state alone.
  send(port, DIR_IN, "A", 501, 121);
  assert.equal(state(port), "FIN_WAIT_1");
  send(port, DIR_IN, "A", 501, 122);
  assert.equal(state(port), "FIN_WAIT_2");
  send(port, DIR_IN, "FA", 501, 122);
  assert.equal(state(port), "TIME_WAIT");
  send(port, DIR_OUT, "A", 122, 502);
  assert.equal(state(port), "TIME_WAIT");
  assert.equal(port.uft[DIR_OUT].size, 1);
  clock.advance(119_000);
  port.expire();
  assert.equal(state(port), "TIME_WAIT");
  clock.advance(2_000);
  port.expire();
  assert.equal(port.tcp.size, 0);
  assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 0);
});

Deno.test("passive open and close: LISTEN → SYN_RCVD → ESTABLISHED → CLOSE_WAIT → LAST_ACK → closed", () => {
  const { port } = mkPort([
    new Layer({ name: "fw", defaults: { in: "statefulAllow", out: "allow" } }),
  ]);
  send(port, DIR_IN, "S", 900);
  assert.equal(state(port), "LISTEN");
  send(port, DIR_OUT, "SA", 100, 901);
  assert.equal(state(port), "SYN_RCVD");
  send(port, DIR_IN, "A", 901, 101);
  assert.equal(state(port), "ESTABLISHED");
  send(port, DIR_IN, "FA", 901, 101);
  assert.equal(state(port), "CLOSE_WAIT");
  send(port, DIR_OUT, "FA", 101, 902);
  assert.equal(state(port), "LAST_ACK");
  assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 2);
  send(port, DIR_IN, "A", 902, 102);
  // Closed: the flow and both UFT entries go at once.
  assert.equal(port.tcp.size, 0);
  assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 0);
  assert.equal(port.stats.tcpClosed, 1);
});

Deno.test("RST closes in either direction and removes the UFT entries at once", () => {
  for (const dir of [DIR_OUT, DIR_IN] as const) {
    const { port } = setup();
    send(port, DIR_OUT, "S", 100);
    send(port, DIR_IN, "SA", 500, 101);
    send(port, DIR_OUT, "A", 101, 501);
    assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 2);
    send(port, dir, "R", dir === DIR_OUT ? 101 : 501);
    assert.equal(port.tcp.size, 0);
    assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 0);
  }
});

Deno.test("a SYN on an established or TIME_WAIT flow tears it down and rebuilds it", () => {
  const { port } = setup();
  send(port, DIR_OUT, "S", 100);
  send(port, DIR_IN, "SA", 500, 101);
  send(port, DIR_OUT, "A", 101, 501);
  assert.equal(state(port), "ESTABLISHED");
  const fast = send(port, DIR_OUT, "S", 7000);
  assert.equal(fast, false);
  assert.equal(state(port), "SYN_SENT");
  assert.equal(port.stats.tcpReuse, 1);
  assert.equal(port.uft[DIR_IN].size, 0);
  send(port, DIR_IN, "SA", 9000, 7001);
  send(port, DIR_OUT, "FA", 7001, 9001);
  send(port, DIR_IN, "FA", 9001, 7002);
  assert.equal(state(port), "TIME_WAIT");
  send(port, DIR_OUT, "S", 20000);
  assert.equal(state(port), "SYN_SENT");
  assert.equal(port.stats.tcpReuse, 2);
});

Deno.test("mid-stream pickup resyncs as ESTABLISHED; unexpected segments pass", () => {
  const { port, clock } = setup();
  send(port, DIR_OUT, "A", 5000, 6000, 10);
  assert.equal(state(port), "ESTABLISHED");
  // A stray SYN-ACK on an established flow is not a reuse: it passes, state unchanged.
  assert.equal(send(port, DIR_IN, "SA", 6000, 5010), false);
  assert.equal(state(port), "ESTABLISHED");
  assert.ok(send(port, DIR_IN, "SA", 6000, 5010));
  // Established flows outlive the half-open TTL by far (upstream keepalive: 8,000 s). Their UFT
  // entries idle out after 60 s like any other; the connection keeps the firewall pair, so the
  // next segment rebuilds the entry (slow path) and the one after hits it again.
  clock.advance(3600_000);
  port.expire();
  assert.equal(state(port), "ESTABLISHED");
  assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 0);
  assert.equal(port.layer("fw").pairCount, 1);
  assert.equal(send(port, DIR_OUT, "A", 5010, 6000), false);
  assert.ok(send(port, DIR_OUT, "A", 5010, 6000));
  clock.advance(8_000_001);
  port.expire();
  assert.equal(port.tcp.size, 0);
  assert.equal(port.layer("fw").pairCount, 0);
});

Deno.test("half-open flows expire after 5 s", () => {
  const { port, clock } = setup();
  send(port, DIR_OUT, "S", 1);
  clock.advance(4_000);
  port.expire();
  assert.equal(state(port), "SYN_SENT");
  clock.advance(1_001);
  // Expired entries are also noticed lazily: the retransmitted SYN starts a new flow.
  assert.equal(send(port, DIR_OUT, "S", 1), false);
  assert.equal(state(port), "SYN_SENT");
  clock.advance(5_001);
  port.expire();
  assert.equal(port.tcp.size, 0);
  assert.equal(port.uft[DIR_OUT].size, 0);
  // As upstream's LFT entries, the firewall pair outlives the handshake until idle 60 s.
  assert.equal(port.layer("fw").pairCount, 1);
  clock.advance(55_000);
  port.expire();
  assert.equal(port.layer("fw").pairCount, 0);
});
