import assert from "node:assert/strict";
import {
  expectedMulticastNs,
  frame,
  GW_MAC,
  hex,
  rackAnswers,
  rackNa,
  REMOTE,
  routedSled,
  SLED,
  sled,
  udp6,
  UL,
  ZA,
} from "./harness.ts";

/** What the rack sees for a zone-a flow forwarded out underlay link `i`. */
function onWire(i: number, sport: number, hop = 63): string {
  return hex(udp6(UL[i].mac, UL[i].rackMac, ZA.ip, REMOTE, { sport, hop }));
}

/** Sends one frame per source port from zone-a; returns the link index each left on. */
function spread(s: ReturnType<typeof sled>, sports: number[]): number[] {
  for (const p of sports) {
    s.zones[ZA.name].inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { sport: p }));
  }
  while (s.step() > 0);
  const seen = new Map<string, number>();
  s.rack.forEach((r, i) =>
    r.take().filter((f) => f[20] === 17).forEach((f) => seen.set(hex(f), i))
  );
  return sports.map((p) => {
    const i = seen.get(onWire(0, p)) ?? seen.get(onWire(1, p));
    assert.notEqual(i, undefined, `flow from port ${p} not forwarded exactly`);
    return i!;
  });
}

Deno.test("zone→remote sled: unresolved next hops drop; resolved ones carry with rack MAC", () => {
  const s = sled();
  s.sw.setRoute("fd00:2::/64", [{ link: "ul0", via: "fe80::ff" }, {
    link: "ul1",
    via: "fe80::ff",
  }]);
  s.zones[ZA.name].inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE));
  s.step();
  assert.equal(s.sw.counters.drop("no-next-hop"), 1);
  assert.deepEqual(rackAnswers(s), [1, 1]);
  s.step();
  assert.deepEqual(s.sw.describeRoutes()[0].nextHops.map((h) => h.live), [true, true]);
  const links = spread(s, [40000]);
  assert.equal(links.length, 1);
});

Deno.test("ECMP: flows spread over both links and each flow stays on its link", () => {
  const s = routedSled();
  const ports = Array.from({ length: 64 }, (_, i) => 30000 + i);
  const first = spread(s, ports);
  assert.ok(first.filter((i) => i === 0).length >= 16, `ul0 got ${first.filter((i) => !i).length}`);
  assert.ok(first.filter((i) => i === 1).length >= 16, `ul1 got ${first.filter((i) => i).length}`);
  assert.deepEqual(spread(s, ports), first);
  assert.equal(s.sw.counters.toJSON().events["forwarded-underlay"], 128);
});

Deno.test("remote→zone: IPv6 to a local underlay address from either link is delivered", () => {
  const s = routedSled();
  for (const i of [0, 1]) {
    s.rack[i].inject(udp6(UL[i].rackMac, UL[i].mac, REMOTE, ZA.ip, { sport: 5000 + i, hop: 60 }));
  }
  s.step();
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [
    hex(udp6(GW_MAC, ZA.mac, REMOTE, ZA.ip, { sport: 5000, hop: 59 })),
    hex(udp6(GW_MAC, ZA.mac, REMOTE, ZA.ip, { sport: 5001, hop: 59 })),
  ]);
});

Deno.test("underlay frames for no local port, another MAC or unparsable are dropped", () => {
  const s = routedSled();
  s.rack[0].inject(udp6(UL[0].rackMac, UL[0].mac, REMOTE, "fd00:1::99"));
  s.rack[0].inject(udp6(UL[0].rackMac, "a8:40:25:12:34:56", REMOTE, ZA.ip));
  s.rack[0].inject(udp6(UL[0].rackMac, UL[0].mac, REMOTE, ZA.ip).slice(0, 40));
  s.step();
  assert.deepEqual(s.zones[ZA.name].take(), []);
  const c = s.sw.counters;
  assert.deepEqual([c.drop("no-local-port"), c.drop("l2-dst"), c.drop("parse")], [1, 1, 1]);
});

/** A rack NS for `target` on link `i`. */
function rackNs(i: number, target: string, dad = false): Uint8Array {
  return frame([
    { type: "ethernet", src: UL[i].rackMac, dst: "33:33:ff:00:00:01" },
    { type: "ipv6", src: dad ? "::" : "fe80::ff", dst: "ff02::1:ff00:1", hopLimit: 255 },
    {
      type: "ndp",
      kind: "ns",
      target,
      options: dad ? [] : [{ type: "sourceLinkAddr", mac: UL[i].rackMac }],
    },
  ]);
}

/** Our NA on link `i` for `target`. */
function ourNa(i: number, target: string, dad = false): string {
  return hex(frame([
    { type: "ethernet", src: UL[i].mac, dst: dad ? "33:33:00:00:00:01" : UL[i].rackMac },
    { type: "ipv6", src: target, dst: dad ? "ff02::1" : "fe80::ff", hopLimit: 255 },
    {
      type: "ndp",
      kind: "na",
      target,
      router: true,
      solicited: !dad,
      override: true,
      options: [{ type: "targetLinkAddr", mac: UL[i].mac }],
    },
  ]));
}

Deno.test("underlay NDP: we answer for each link's link-local and every local underlay address", () => {
  const s = sled();
  s.rack[0].inject(rackNs(0, UL[0].ll));
  s.rack[1].inject(rackNs(1, UL[1].ll));
  s.rack[1].inject(rackNs(1, ZA.ip));
  s.rack[0].inject(rackNs(0, SLED));
  s.sw.removePort("xde0"); // the sled address stays ours without a host port (Geneve endpoint)
  s.rack[0].inject(rackNs(0, UL[1].ll)); // the other link's address is not ours on ul0
  s.rack[0].inject(rackNs(0, "fd00:1::99"));
  s.rack[1].inject(rackNs(1, ZA.ip, true));
  s.step();
  assert.deepEqual(s.rack[0].take().map(hex), [ourNa(0, UL[0].ll), ourNa(0, SLED)]);
  assert.deepEqual(s.rack[1].take().map(hex), [
    ourNa(1, UL[1].ll),
    ourNa(1, ZA.ip),
    ourNa(1, ZA.ip, true),
  ]);
  assert.equal(s.sw.counters.drop("ndp-ignored"), 2);
});

Deno.test("neighbour cache: learns from NA, probes by unicast, expires and re-resolves", () => {
  const s = sled({ cfg: { nud: { expireMs: 5000 } } });
  s.sw.setRoute("fd00:2::/64", [{ link: "ul0", via: "fe80::ff" }]);
  s.step();
  assert.deepEqual(s.rack[0].take().map(hex), [hex(expectedMulticastNs(0))]);
  // An unsolicited NA teaches the MAC but does not prove reachability.
  const unsolicited = rackNa(0);
  unsolicited[54 + 4] = 0x20;
  unsolicited[54 + 2] = unsolicited[54 + 3] = 0;
  const sum = unsolicitedSum(unsolicited);
  unsolicited[54 + 2] = sum >> 8;
  unsolicited[54 + 3] = sum & 0xff;
  s.rack[0].inject(unsolicited);
  s.step();
  assert.equal(s.sw.describeRoutes()[0].nextHops[0].live, false);
  s.rack[0].inject(rackNa(0));
  s.step();
  assert.equal(s.sw.describeRoutes()[0].nextHops[0].live, true);
  // A probe period later: a unicast NS to the learned MAC.
  s.step(250);
  const probe = frame([
    { type: "ethernet", src: UL[0].mac, dst: UL[0].rackMac },
    { type: "ipv6", src: UL[0].ll, dst: "fe80::ff", hopLimit: 255 },
    {
      type: "ndp",
      kind: "ns",
      target: "fe80::ff",
      options: [{ type: "sourceLinkAddr", mac: UL[0].mac }],
    },
  ]);
  assert.deepEqual(s.rack[0].take().map(hex), [hex(probe)]);
  // No answers: failed within a second, then forgotten after expireMs, then multicast again.
  for (let t = 0; t < 1000; t += 100) s.step(100);
  assert.equal(s.sw.describeRoutes()[0].nextHops[0].live, false);
  s.rack[0].take();
  for (let t = 0; t < 5000; t += 500) s.step(500);
  const last = s.rack[0].take().map(hex);
  assert.ok(last.length > 0 && last.every((f) => f === hex(expectedMulticastNs(0))));
  assert.equal(s.sw.counters.toJSON().events["next-hop-down"], 1);
});

/** ICMPv6 checksum of an NA frame built by buildFrame (fields at fixed offsets). */
function unsolicitedSum(f: Uint8Array): number {
  let sum = 58 + (f.length - 54);
  for (let i = 22; i < 54; i += 2) sum += (f[i] << 8) | f[i + 1];
  for (let i = 54; i < f.length; i += 2) sum += (f[i] << 8) | (f[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

Deno.test("link failure moves flows to the survivor within 1 s and back on recovery", () => {
  const s = routedSled();
  const ports = Array.from({ length: 32 }, (_, i) => 20000 + i);
  const before = spread(s, ports);
  assert.ok(before.includes(0) && before.includes(1));
  s.uplinks[0].setUp(false);
  s.step(50);
  assert.deepEqual(spread(s, ports), ports.map(() => 1));
  s.uplinks[0].setUp(true);
  for (let t = 0; t < 600; t += 100) {
    s.step(100);
    rackAnswers(s);
  }
  s.step();
  assert.deepEqual(spread(s, ports), before);
});

Deno.test("a next hop that stops answering NUD leaves ECMP within 1 s and returns", () => {
  const s = routedSled();
  const ports = Array.from({ length: 32 }, (_, i) => 10000 + i);
  const before = spread(s, ports);
  let t = 0;
  while (s.sw.describeRoutes()[0].nextHops[1].live) {
    s.step(50);
    t += 50;
    rackAnswers(s, [true, false]);
    assert.ok(t <= 1000, "still live after 1 s without answers");
  }
  assert.deepEqual(spread(s, ports), ports.map(() => 0));
  for (let k = 0; k < 12; k++) {
    s.step(50);
    rackAnswers(s);
  }
  assert.deepEqual(spread(s, ports), before);
  assert.equal(s.sw.counters.toJSON().events["next-hop-up"] >= 1, true);
});
