// Upstream OPTE's TCP integration tests (tcp_outbound, tcp_inbound, early_tcp_invalidation,
// tcp_invalidation_does_not_block_connection, no_panic_on_flow_table_full): TCP states after each
// segment, flow-table contents at given times, and upstream's timeouts (UFT idle 60 s,
// TIME_WAIT 120 s, handshake 5 s).

import assert from "node:assert/strict";
import { firewallRulesFromText } from "../../lib/vpc/firewall_text.ts";
import { assertDropped, assertPassed, buildFrame, geneveFrame, GW_MAC } from "./harness.ts";
import { oxideExternalOption } from "../../lib/packet/geneve.ts";
import {
  BS_MAC,
  BS_UNDERLAY,
  CLIENT_PORT,
  flows,
  fromGuest,
  fromWeb,
  G1,
  G2,
  guestPort,
  http,
  type HttpStep,
  innerSrcPort,
  lab,
  tcpState,
  VNI,
  WEB,
} from "./opte_setup.ts";

type Lab = ReturnType<typeof lab>;
type P = ReturnType<typeof guestPort>;

/** Upstream's test_outbound_http: the whole connection, the state after every segment. */
function outboundHttp(s: Lab, g1: P, dst = WEB): number {
  const out = (step: HttpStep) =>
    assertPassed(s.send(g1, "out", buildFrame(fromGuest(G1, step, dst))));
  const inb = (step: HttpStep, port: number) =>
    assertPassed(s.send(g1, "in", fromWeb(G1, step, port)));
  const port = innerSrcPort(out("syn"));
  assert.equal(tcpState(g1), "SYN_SENT");
  inb("synAck", port);
  assert.equal(tcpState(g1), "ESTABLISHED");
  for (
    const [dir, step] of [["out", "ack"], ["out", "get"], ["in", "getAck"], ["in", "reply301"], [
      "out",
      "ack301",
    ]] as const
  ) {
    if (dir === "out") out(step);
    else inb(step, port);
    assert.equal(g1.result.fastPath, true, step);
    assert.equal(tcpState(g1), "ESTABLISHED", step);
  }
  out("clientFin");
  assert.equal(tcpState(g1), "FIN_WAIT_1");
  inb("serverAckFin", port);
  assert.equal(tcpState(g1), "FIN_WAIT_2");
  inb("serverFin", port);
  assert.equal(tcpState(g1), "TIME_WAIT");
  out("clientAckFin");
  assert.equal(tcpState(g1), "TIME_WAIT");
  return port;
}

Deno.test("tcp_outbound: states of an active open and close; UFT idles out at 60 s, TIME_WAIT at 120 s, then everything", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  const port = outboundHttp(s, g1);
  // SNAT ports are handed out highest first: the range is 1025-4096.
  assert.equal(port, 4096);
  assert.deepEqual(flows(g1), {
    "uft.out": 1,
    "uft.in": 1,
    "firewall.flows": 1,
    "nat.flows": 1,
  });
  s.now = 61_000;
  g1.expire();
  // The UFT entries expire; the TCP entry (TIME_WAIT) keeps the firewall and NAT entries.
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0, "firewall.flows": 1, "nat.flows": 1 });
  assert.equal(tcpState(g1), "TIME_WAIT");
  s.now = 121_000;
  g1.expire();
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 0 });
  assert.equal(tcpState(g1), undefined);
  assert.equal(g1.nat.snat(4)!.tcp.inUse, 0);
  await s.tshark(t, "tcp_outbound");
});

Deno.test("tcp_inbound: states of a passive open and close through the ephemeral IP; the final ACK removes the flow", async (t) => {
  const s = lab();
  const EPH = "10.60.1.20";
  const g1 = guestPort(s, G1, {
    ext4: { snat: { ip: G1.snat, ports: "1025-4096" }, ephemeralIp: EPH },
    firewall: firewallRulesFromText([{
      direction: "in",
      priority: 10,
      action: "allow",
      protocol: "tcp",
      ports: "80",
    }]),
  });
  const client = { src: WEB, dst: EPH, sport: CLIENT_PORT, dport: 80 };
  const server = { src: G1.ip, dst: WEB, sport: 80, dport: CLIENT_PORT };
  const inb = (step: HttpStep) =>
    assertPassed(
      s.send(
        g1,
        "in",
        geneveFrame(BS_UNDERLAY, G1.underlay, VNI, http(step, client, BS_MAC, G1.mac), [
          oxideExternalOption(),
        ]),
      ),
    );
  const out = (step: HttpStep) =>
    assertPassed(s.send(g1, "out", buildFrame(http(step, server, G1.mac, GW_MAC))));
  const delivered = inb("syn");
  // Delivered to the private address, from the gateway MAC.
  assert.deepEqual(delivered, buildFrame(http("syn", { ...client, dst: G1.ip }, GW_MAC, G1.mac)));
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 1, "firewall.flows": 1, "nat.flows": 1 });
  assert.equal(tcpState(g1), "LISTEN");
  out("synAck");
  assert.equal(tcpState(g1), "SYN_RCVD");
  for (
    const [dir, step] of [["in", "ack"], ["in", "get"], ["out", "getAck"], ["out", "reply301"], [
      "in",
      "ack301",
    ]] as const
  ) {
    if (dir === "out") out(step);
    else inb(step);
    assert.equal(tcpState(g1), "ESTABLISHED", step);
  }
  inb("clientFin");
  assert.equal(tcpState(g1), "CLOSE_WAIT");
  out("serverAckFin");
  assert.equal(tcpState(g1), "CLOSE_WAIT");
  out("serverFin");
  assert.equal(tcpState(g1), "LAST_ACK");
  inb("clientAckFin");
  assert.equal(tcpState(g1), undefined);
  assert.equal(flows(g1)["uft.out"] + flows(g1)["uft.in"], 0);
  await s.tshark(t, "tcp_inbound");
});

Deno.test("early_tcp_invalidation: a SYN on a TIME_WAIT or ESTABLISHED tuple starts a new flow; an ACK from CLOSED is ESTABLISHED", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  const port = outboundHttp(s, g1);
  // The same SYN again: the old entries go, a new flow starts (the NAT binding is kept).
  const again = assertPassed(s.send(g1, "out", buildFrame(fromGuest(G1, "syn", WEB))));
  assert.equal(tcpState(g1), "SYN_SENT");
  assert.equal(innerSrcPort(again), port);
  assert.deepEqual(flows(g1), { "uft.out": 1, "uft.in": 0, "firewall.flows": 1, "nat.flows": 1 });
  assertPassed(s.send(g1, "in", fromWeb(G1, "synAck", port)));
  assert.equal(tcpState(g1), "ESTABLISHED");
  // The server sends a bare SYN on the established tuple: reprocessed inbound, now LISTEN.
  const syn3 = fromWeb(G1, "syn", port);
  assertPassed(s.send(g1, "in", syn3));
  assert.equal(g1.result.fastPath, false);
  assert.equal(tcpState(g1), "LISTEN");
  assert.deepEqual(flows(g1), { "uft.out": 0, "uft.in": 1, "firewall.flows": 1, "nat.flows": 1 });
  // An ACK to a new destination (its SYN long forgotten) is tracked as ESTABLISHED.
  const dst2 = "52.10.128.70";
  assertPassed(s.send(g1, "out", buildFrame(fromGuest(G1, "clientAckFin", dst2))));
  const states = () =>
    (g1.port.dumpTcp() as { flow: string; state: string }[]).filter((r) => r.flow.includes(dst2))
      .map((r) => r.state);
  assert.deepEqual(states(), ["ESTABLISHED"]);
  assert.deepEqual(flows(g1), { "uft.out": 1, "uft.in": 1, "firewall.flows": 2, "nat.flows": 2 });
  // ... which does not block a new connection on that tuple.
  assertPassed(s.send(g1, "out", buildFrame(fromGuest(G1, "syn", dst2))));
  assert.deepEqual(states(), ["SYN_SENT"]);
  await s.tshark(t, "early_tcp_invalidation");
});

Deno.test("tcp_invalidation_does_not_block_connection: a SYN-ACK after the handshake entry expired passes on the firewall's LFT", async (t) => {
  const s = lab();
  const g1 = guestPort(s, G1);
  // Only the defaults: allow all outbound, deny all inbound.
  g1.setFirewall(firewallRulesFromText([]));
  assertPassed(s.send(g1, "out", buildFrame(fromGuest(G1, "syn", G2.ip))));
  assert.equal(tcpState(g1), "SYN_SENT");
  assert.equal(flows(g1)["firewall.flows"], 1);
  // The peer is slow: past the 5 s handshake TTL, not the 60 s LFT TTL.
  s.now = 6_000;
  g1.expire();
  assert.equal(tcpState(g1), undefined);
  assert.equal(flows(g1)["firewall.flows"], 1);
  const synAck = http(
    "synAck",
    { src: G2.ip, dst: G1.ip, sport: 80, dport: CLIENT_PORT },
    G2.mac,
    G1.mac,
  );
  assertPassed(s.send(g1, "in", geneveFrame(G2.underlay, G1.underlay, VNI, synAck)));
  assert.equal(flows(g1)["uft.in"], 1);
  assert.equal(tcpState(g1), "ESTABLISHED");
  // An established flow survives a short wait.
  s.now = 12_000;
  g1.expire();
  assert.equal(tcpState(g1), "ESTABLISHED");
  await s.tshark(t, "tcp_invalidation_does_not_block_connection");
});

Deno.test("no_panic_on_flow_table_full: with room for one flow a second connection is refused (TCP table) and counted, the first kept", async (t) => {
  const s = lab();
  // Upstream limits every table to 1; the TCP table alone gives the same result.
  for (const limits of [{ tcpLimit: 1 }, { tcpLimit: 1, uftLimit: 1, lftLimit: 1 }]) {
    const g1 = guestPort(s, G1, limits);
    assertPassed(s.send(g1, "out", buildFrame(fromGuest(G1, "syn", WEB))));
    const o = s.send(g1, "out", buildFrame(fromGuest(G1, "syn", "142.251.46.238")));
    // Upstream: DropReason::TcpErr, before any layer ran (no firewall or NAT state taken).
    assertDropped(o, "tcp table full");
    assert.equal(g1.port.stats.drops.get("tcp table full"), 1);
    assert.equal(g1.port.stats.tcpFull, 1);
    // The first connection is untouched (a fresh handshake is protected from eviction).
    assert.equal(tcpState(g1), "SYN_SENT");
    assert.deepEqual(flows(g1), { "uft.out": 1, "uft.in": 0, "firewall.flows": 1, "nat.flows": 1 });
    assert.equal(g1.nat.snat(4)!.tcp.inUse, 1);
  }
  await s.tshark(t, "no_panic_on_flow_table_full");
});
