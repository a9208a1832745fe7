import assert from "node:assert/strict";
import {
  A,
  DIR_IN,
  DIR_OUT,
  Layer,
  Port,
  PORT_PAUSED,
  PORT_READY,
  RES_DROP,
  RES_ERROR,
  RES_HAIRPIN,
  RES_MODIFIED,
} from "../../lib/engine/mod.ts";
import { parseIp } from "../../lib/packet/bytes.ts";
import { flowText, mkPort, pkt, PortPool, reparse, snatLayer, tcp, udp } from "./helpers.ts";

function fwLayer(): Layer {
  return new Layer({ name: "firewall", defaults: { in: "deny", out: "statefulAllow" } });
}

Deno.test("guest→internet over a NAT-like stateful transform: the reply hits the LFT pair", () => {
  const pool = new PortPool(1024, 4);
  const { port } = mkPort([fwLayer(), snatLayer(pool, "203.0.113.9")]);
  const syn = tcp("10.0.0.5:40000", "8.8.8.8:443", "S");
  assert.equal(port.process(DIR_OUT, syn), RES_MODIFIED);
  assert.equal(flowText(syn), "TCP 203.0.113.9:1024 -> 8.8.8.8:443");
  reparse(syn);
  const synAck = tcp("8.8.8.8:443", "203.0.113.9:1024", "SA", { ack: 1001 });
  assert.equal(port.process(DIR_IN, synAck), RES_MODIFIED);
  assert.equal(flowText(synAck), "TCP 8.8.8.8:443 -> 10.0.0.5:40000");
  reparse(synAck);
  assert.equal(port.result.fastPath, false);
  // Both directions now have UFT entries, paired.
  assert.equal(port.uft[DIR_OUT].size, 1);
  assert.equal(port.uft[DIR_IN].size, 1);
  const ack = tcp("10.0.0.5:40000", "8.8.8.8:443", "A", { seq: 1001, ack: 5001, data: 100 });
  assert.equal(port.process(DIR_OUT, ack), RES_MODIFIED);
  assert.equal(port.result.fastPath, true);
  assert.equal(flowText(ack), "TCP 203.0.113.9:1024 -> 8.8.8.8:443");
  reparse(ack);
  const data = tcp("8.8.8.8:443", "203.0.113.9:1024", "A", { seq: 5001, ack: 1101, data: 300 });
  assert.equal(port.process(DIR_IN, data), RES_MODIFIED);
  assert.equal(port.result.fastPath, true);
  assert.equal(flowText(data), "TCP 8.8.8.8:443 -> 10.0.0.5:40000");
  reparse(data);
  assert.deepEqual(port.dumpUft(DIR_OUT).map((e) => (e as { paired: boolean }).paired), [true]);
  assert.equal(port.dumpTcp().length, 1);
  // Counters: two slow-path packets (one per direction), then two UFT hits.
  const snap = port.statsSnapshot() as Record<string, unknown>;
  assert.deepEqual(snap.uftHit, { out: 1, in: 1 });
  assert.deepEqual(snap.uftMiss, { out: 1, in: 1 });
  assert.equal(snap.uftOut, 1);
  assert.equal(snap.uftIn, 1);
  assert.equal(snap.tcpFlows, 1);
  assert.deepEqual(snap.lft, { firewall: 1, nat: 1 });
  const fw = port.layer("firewall").stats, nat = port.layer("nat").stats;
  assert.deepEqual([fw.out.lftMiss, fw.out.defaultHits, fw.in.lftHit, fw.in.lftMiss], [1, 1, 1, 0]);
  assert.deepEqual([nat.out.lftMiss, nat.out.ruleHits, nat.in.lftHit], [1, 1, 1]);
  assert.equal(port.layer("nat").rules[DIR_OUT].list[0].hits, 1);
});

Deno.test("inbound to an unused external port is dropped by the firewall default", () => {
  const pool = new PortPool(1024, 4);
  const { port } = mkPort([fwLayer(), snatLayer(pool, "203.0.113.9")]);
  const p = tcp("8.8.8.8:443", "203.0.113.9:1999", "S");
  assert.equal(port.process(DIR_IN, p), RES_DROP);
  assert.equal(port.result.layer, "firewall");
  assert.equal(port.result.rule, -1);
  assert.equal(port.result.reason, "default deny");
  assert.equal(port.uft[DIR_IN].size, 0);
  assert.equal(port.stats.drops.get("default deny"), 1);
  assert.equal(port.layer("firewall").stats.in.drops, 1);
});

Deno.test("UDP reply to a stateful-allowed flow passes; ICMP echo id is translated", () => {
  const pool = new PortPool(2000, 4);
  const { port } = mkPort([fwLayer(), snatLayer(pool, "203.0.113.9")]);
  const q = udp("10.0.0.5:5353", "1.1.1.1:53");
  assert.equal(port.process(DIR_OUT, q), RES_MODIFIED);
  assert.equal(flowText(q), "UDP 203.0.113.9:2000 -> 1.1.1.1:53");
  reparse(q);
  const r = udp("1.1.1.1:53", "203.0.113.9:2000");
  assert.equal(port.process(DIR_IN, r), RES_MODIFIED);
  assert.equal(flowText(r), "UDP 1.1.1.1:53 -> 10.0.0.5:5353");
  reparse(r);
  const echo = pkt([
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "10.0.0.5", dst: "8.8.8.8" },
    { type: "icmpv4", kind: "echoRequest", id: 77, seq: 1 },
    { type: "payload", data: "ping" },
  ]);
  assert.equal(port.process(DIR_OUT, echo), RES_MODIFIED);
  assert.equal(flowText(echo), "ICMP 203.0.113.9:2001 -> 8.8.8.8:2001");
  reparse(echo);
  const reply = pkt([
    { type: "ethernet", src: "a8:40:25:ff:77:77", dst: "a8:40:25:00:00:01" },
    { type: "ipv4", src: "8.8.8.8", dst: "203.0.113.9" },
    { type: "icmpv4", kind: "echoReply", id: 2001, seq: 1 },
    { type: "payload", data: "ping" },
  ]);
  assert.equal(port.process(DIR_IN, reply), RES_MODIFIED);
  assert.equal(flowText(reply), "ICMP 8.8.8.8:77 -> 10.0.0.5:77");
  reparse(reply);
});

Deno.test("a rule change bumps the epoch: both UFT entries are rebuilt on the next packet", () => {
  const pool = new PortPool(1024, 4);
  const acl = new Layer({ name: "acl" });
  const { port } = mkPort([acl, fwLayer(), snatLayer(pool, "203.0.113.9")]);
  port.process(DIR_OUT, udp("10.0.0.5:5000", "1.1.1.1:53"));
  port.process(DIR_IN, udp("1.1.1.1:53", "203.0.113.9:1024"));
  assert.equal(port.uft[DIR_OUT].size + port.uft[DIR_IN].size, 2);
  const e0 = port.epoch;
  const id = port.addRule("acl", DIR_OUT, {
    priority: 5,
    predicates: [{ kind: "dstPort", ports: [53] }],
    action: A.deny("no dns"),
  });
  assert.equal(port.epoch, e0 + 1);
  // The outbound entry is stale: it and its inbound pair are removed, the packet sees the new rule.
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:5000", "1.1.1.1:53")), RES_DROP);
  assert.equal(port.result.reason, "no dns");
  assert.equal(port.result.rule, id);
  assert.equal(port.stats.uftStale, 1);
  assert.equal(port.uft[DIR_OUT].size, 0);
  assert.equal(port.uft[DIR_IN].size, 0);
  // The firewall's LFT pair survived, so the reply still passes it (through the layers again).
  assert.equal(port.process(DIR_IN, udp("1.1.1.1:53", "203.0.113.9:1024")), RES_MODIFIED);
  assert.equal(port.result.fastPath, false);
  assert.ok(port.removeRule("acl", DIR_OUT, id));
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:5000", "1.1.1.1:53")), RES_MODIFIED);
});

Deno.test("drops, hairpins and non-IP frames never create UFT entries", () => {
  const gw = new Layer({
    name: "gateway",
    rules: {
      out: [
        {
          priority: 1,
          predicates: [{ kind: "etherType", values: [0x0806] }],
          action: A.hairpin("arp", () => new Uint8Array([1, 2, 3])),
        },
        {
          priority: 2,
          predicates: [{ kind: "icmpType", values: [8] }],
          action: A.hairpin("echo", ({ pkt }) => pkt.bytes()),
        },
        { priority: 3, predicates: [{ kind: "dstPort", ports: [25] }], action: A.deny() },
      ],
    },
  });
  const { port } = mkPort([gw]);
  const arp = pkt([
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "ff:ff:ff:ff:ff:ff" },
    { type: "arp", senderMac: "a8:40:25:00:00:01", senderIp: "10.0.0.5", targetIp: "10.0.0.1" },
  ]);
  assert.equal(port.process(DIR_OUT, arp), RES_HAIRPIN);
  assert.deepEqual(port.result.hairpin, new Uint8Array([1, 2, 3]));
  assert.equal(port.result.layer, "gateway");
  const echo = pkt([
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.1" },
    { type: "icmpv4", kind: "echoRequest", id: 1, seq: 1 },
  ]);
  assert.equal(port.process(DIR_OUT, echo), RES_HAIRPIN);
  assert.equal(port.process(DIR_OUT, tcp("10.0.0.5:1000", "10.0.0.9:25", "S")), RES_DROP);
  assert.equal(port.result.reason, "rule deny");
  // A non-IP frame every layer allows passes but is not cached either.
  const lldp = pkt([
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "01:80:c2:00:00:0e", etherType: 0x88cc },
    { type: "payload", data: new Uint8Array(46) },
  ]);
  assert.equal(port.process(DIR_OUT, lldp), RES_MODIFIED);
  assert.equal(port.process(DIR_OUT, lldp), RES_MODIFIED);
  assert.equal(port.result.fastPath, false);
  assert.equal(port.uft[DIR_OUT].size, 0);
  assert.equal(port.tcp.size, 0);
  assert.equal(port.stats.hairpins, 2);
});

Deno.test("only a running port processes; paused still allows inspection; reset keeps rules", () => {
  const pool = new PortPool(1024, 2);
  const clock = { t: 0 };
  const nat = snatLayer(pool, "203.0.113.9");
  const port = new Port({ name: "p", layers: [nat], clock: () => clock.t });
  assert.equal(port.state, PORT_READY);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53")), RES_ERROR);
  assert.equal(port.result.reason, "port not running");
  port.start();
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53")), RES_MODIFIED);
  port.pause();
  assert.equal(port.state, PORT_PAUSED);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53")), RES_ERROR);
  assert.equal(port.dumpUft(DIR_OUT).length, 1);
  assert.equal((port.dumpLayer("nat") as { flows: unknown[] }).flows.length, 1);
  port.reset();
  assert.equal(port.state, PORT_READY);
  assert.deepEqual(pool.released, [1024]);
  assert.equal(port.uft[DIR_OUT].size, 0);
  assert.equal(nat.pairCount, 0);
  assert.equal(nat.rules[DIR_OUT].list.length, 1);
  port.start();
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53")), RES_MODIFIED);
  assert.equal(port.result.fastPath, false);
});

Deno.test("resources are released exactly once on expiry, clear and setRules(clearFlows)", () => {
  const pool = new PortPool(1024, 8);
  const { port, clock } = mkPort([snatLayer(pool, "203.0.113.9")]);
  port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53"));
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53"));
  clock.advance(30_000);
  port.process(DIR_OUT, udp("10.0.0.5:2", "1.1.1.1:53")); // keeps flow 2 alive via the UFT hit
  assert.equal(port.result.fastPath, true);
  clock.advance(30_001);
  assert.equal(port.expire(), 2); // flow 1: its UFT entry and its LFT pair
  assert.deepEqual(pool.released, [1024]);
  port.expire();
  assert.deepEqual(pool.released, [1024]);
  port.clearFlows();
  assert.deepEqual(pool.released, [1024, 1025]);
  port.process(DIR_OUT, udp("10.0.0.5:3", "1.1.1.1:53"));
  port.setRules("nat", { out: port.layer("nat").rules[DIR_OUT].list.map((r) => r.spec) }, {
    clearFlows: true,
  });
  assert.equal(pool.released.length, 3);
  assert.equal(port.layer("nat").stats.releases, 3);
});

Deno.test("a UFT hit after the LFT pair died goes through the layers again", () => {
  const pool = new PortPool(1024, 8);
  const { port } = mkPort([snatLayer(pool, "203.0.113.9")]);
  port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53"));
  port.clearLayerFlows("nat");
  const p = udp("10.0.0.5:1", "1.1.1.1:53");
  assert.equal(port.process(DIR_OUT, p), RES_MODIFIED);
  assert.equal(port.result.fastPath, false);
  assert.equal(flowText(p), "UDP 203.0.113.9:1025 -> 1.1.1.1:53");
});

Deno.test("IPv6 flows translate and keep valid checksums", () => {
  const pool = new PortPool(3000, 2);
  const { port } = mkPort([snatLayer(pool, "2001:db8::9")]);
  const p = tcp("[fd00::5]:40000", "[2001:db8:1::1]:443", "S");
  assert.equal(port.process(DIR_OUT, p), RES_MODIFIED);
  assert.equal(flowText(p), "TCP [2001:db8::9]:3000 -> [2001:db8:1::1]:443");
  reparse(p);
  const r = tcp("[2001:db8:1::1]:443", "[2001:db8::9]:3000", "SA");
  assert.equal(port.process(DIR_IN, r), RES_MODIFIED);
  assert.equal(flowText(r), "TCP [2001:db8:1::1]:443 -> [fd00::5]:40000");
  reparse(r);
});

Deno.test("a pair created for a packet a later layer drops dies at once (resource released)", () => {
  const pool = new PortPool(1024, 2);
  const overlay = new Layer({
    name: "overlay",
    rules: {
      out: [{
        priority: 1,
        predicates: [{ kind: "ipDst", cidrs: ["9.9.9.9"] }],
        action: A.deny("no route"),
      }],
    },
  });
  const { port } = mkPort([fwLayer(), snatLayer(pool, "203.0.113.9"), overlay]);
  for (let i = 0; i < 5; i++) {
    assert.equal(port.process(DIR_OUT, udp(`10.0.0.5:${i + 1}`, "9.9.9.9:53")), RES_DROP);
    assert.equal(port.result.reason, "no route");
  }
  // Without the rollback the pool (2 ports) would be exhausted after two packets.
  assert.deepEqual(pool.released, [1024, 1025, 1024, 1025, 1024]);
  assert.equal(port.layer("nat").pairCount, 0);
  assert.equal(port.layer("firewall").pairCount, 0);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:9", "8.8.8.8:53")), RES_MODIFIED);
  assert.equal(port.layer("nat").pairCount, 1);
});

Deno.test("an action generator that throws yields an error result, never an exception", () => {
  const bad = new Layer({
    name: "bad",
    rules: {
      out: [{
        priority: 1,
        action: A.stateful("boom", () => {
          throw new Error("generator bug");
        }),
      }],
    },
  });
  const { port } = mkPort([fwLayer(), bad]);
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:1", "1.1.1.1:53")), RES_ERROR);
  assert.equal(port.result.reason, "action threw");
  assert.equal((port.lastThrown as Error).message, "generator bug");
  assert.equal(port.stats.errors.get("action threw"), 1);
  // The firewall pair made for this packet was rolled back.
  assert.equal(port.layer("firewall").pairCount, 0);
  assert.equal(port.uft[DIR_OUT].size, 0);
});

Deno.test("inbound miss creates the pair the other way: the outbound reply hits it", () => {
  const ext = parseIp("203.0.113.9")!, guest = parseIp("10.0.0.5")!;
  let released = 0;
  const dnat = new Layer({
    name: "dnat",
    defaults: { in: "deny", out: "deny" },
    rules: {
      in: [{
        priority: 1,
        predicates: [{ kind: "ipDst", cidrs: ["203.0.113.9"] }],
        action: A.stateful("1:1", () => ({
          name: "floating",
          transform: (dir) =>
            dir === DIR_IN
              ? { name: "dnat", innerIp: { dst: guest } }
              : { name: "snat", innerIp: { src: ext } },
          release: () => released++,
        })),
      }],
    },
  });
  const { port, clock } = mkPort([dnat]);
  const q = udp("198.51.100.7:5000", "203.0.113.9:80");
  assert.equal(port.process(DIR_IN, q), RES_MODIFIED);
  assert.equal(flowText(q), "UDP 198.51.100.7:5000 -> 10.0.0.5:80");
  reparse(q);
  // The out entry is keyed by the mirror of the flow after the transform.
  const r = udp("10.0.0.5:80", "198.51.100.7:5000");
  assert.equal(port.process(DIR_OUT, r), RES_MODIFIED);
  assert.equal(flowText(r), "UDP 203.0.113.9:80 -> 198.51.100.7:5000");
  reparse(r);
  // Unsolicited outbound traffic hits the layer's default deny.
  assert.equal(port.process(DIR_OUT, udp("10.0.0.5:81", "198.51.100.7:5000")), RES_DROP);
  // Both UFT entries exist and are paired; the pair dies once, after 60 s idle.
  assert.equal((port.dumpUft(DIR_IN)[0] as { paired: boolean }).paired, true);
  clock.advance(60_001);
  port.expire();
  assert.equal(released, 1);
  assert.equal(port.uft[DIR_IN].size + port.uft[DIR_OUT].size, 0);
});
