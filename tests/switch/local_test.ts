import assert from "node:assert/strict";
import {
  expectedMulticastNs,
  frame,
  GW_LL,
  GW_MAC,
  hex,
  HOST,
  sled,
  udp6,
  ZA,
  ZB,
} from "./harness.ts";

Deno.test("zone→zone: delivered port to port with gateway MAC, port MAC and hop limit - 1", () => {
  const s = sled();
  s.zones[ZA.name].inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { hop: 64 }));
  assert.equal(s.step(), 1);
  const got = s.zones[ZB.name].take();
  assert.equal(got.length, 1);
  assert.equal(hex(got[0]), hex(udp6(GW_MAC, ZB.mac, ZA.ip, ZB.ip, { hop: 63 })));
  assert.deepEqual(s.zones[ZA.name].take(), []);
  assert.equal(s.sw.counters.toJSON().events["delivered-local"], 1);
  // Never touched an underlay link.
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 0);
});

Deno.test("zone→GZ and GZ→zone go through the host port", () => {
  const s = sled();
  s.zones[ZB.name].inject(udp6(ZB.mac, GW_MAC, ZB.ip, HOST.ip, { sport: 1, dport: 2 }));
  s.zones[HOST.name].inject(udp6(HOST.mac, GW_MAC, HOST.ip, ZA.ip, { sport: 3, dport: 4 }));
  s.step();
  assert.deepEqual(s.zones[HOST.name].take().map(hex), [
    hex(udp6(GW_MAC, HOST.mac, ZB.ip, HOST.ip, { sport: 1, dport: 2, hop: 63 })),
  ]);
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [
    hex(udp6(GW_MAC, ZA.mac, HOST.ip, ZA.ip, { sport: 3, dport: 4, hop: 63 })),
  ]);
});

Deno.test("RS from a zone gets an RA from the gateway link-local with MTU", () => {
  const s = sled();
  const zaLL = "fe80::aa40:25ff:fe00:10a";
  s.zones[ZA.name].inject(frame([
    { type: "ethernet", src: ZA.mac, dst: "33:33:00:00:00:02" },
    { type: "ipv6", src: zaLL, dst: "ff02::2", hopLimit: 255 },
    { type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: ZA.mac }] },
  ]));
  s.step();
  const want = frame([
    { type: "ethernet", src: GW_MAC, dst: ZA.mac },
    { type: "ipv6", src: GW_LL, dst: zaLL, hopLimit: 255 },
    {
      type: "ndp",
      kind: "ra",
      curHopLimit: 64,
      routerLifetime: 1800,
      options: [{ type: "sourceLinkAddr", mac: GW_MAC }, { type: "mtu", mtu: 1500 }],
    },
  ]);
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [hex(want)]);
});

/** A zone's NS for `target` (unicast source, or DAD when `dad`). */
function zoneNs(z: typeof ZA, target: string, dad = false): Uint8Array {
  const sn = `ff02::1:ff${target.split(":").at(-1)!.padStart(6, "0").slice(0, 2)}:${
    target.split(":").at(-1)!.padStart(4, "0").slice(-4)
  }`;
  return frame([
    { type: "ethernet", src: z.mac, dst: "33:33:ff:00:00:00" },
    { type: "ipv6", src: dad ? "::" : z.ip, dst: sn, hopLimit: 255 },
    {
      type: "ndp",
      kind: "ns",
      target,
      options: dad ? [] : [{ type: "sourceLinkAddr", mac: z.mac }],
    },
  ]);
}

/** The switch's NA to a zone for `target`. */
function gwNa(z: typeof ZA, target: string): Uint8Array {
  return frame([
    { type: "ethernet", src: GW_MAC, dst: z.mac },
    { type: "ipv6", src: target, dst: z.ip, hopLimit: 255 },
    {
      type: "ndp",
      kind: "na",
      target,
      router: true,
      solicited: true,
      override: true,
      options: [{ type: "targetLinkAddr", mac: GW_MAC }],
    },
  ]);
}

Deno.test("NS for the gateway link-local and proxy NS for local underlay addresses", () => {
  const s = sled();
  const za = s.zones[ZA.name];
  za.inject(zoneNs(ZA, GW_LL));
  za.inject(zoneNs(ZA, ZB.ip));
  za.inject(zoneNs(ZA, HOST.ip));
  s.step();
  assert.deepEqual(
    za.take().map(hex),
    [gwNa(ZA, GW_LL), gwNa(ZA, ZB.ip), gwNa(ZA, HOST.ip)].map(hex),
  );
  assert.equal(s.sw.counters.toJSON().events["na-sent"], 3);
});

Deno.test("no NA for a zone's own address (DAD), a remote address or a bad NS", () => {
  const s = sled();
  const za = s.zones[ZA.name];
  za.inject(zoneNs(ZA, ZA.ip, true));
  za.inject(zoneNs(ZA, "fd00:2::10"));
  const bad = zoneNs(ZA, ZB.ip);
  bad[14 + 7] = 64; // hop limit must be 255
  za.inject(bad);
  const badSum = zoneNs(ZA, ZB.ip);
  badSum[14 + 40 + 2] ^= 0xff;
  za.inject(badSum);
  s.step();
  assert.deepEqual(za.take(), []);
  const c = s.sw.counters;
  assert.equal(c.drop("ndp-ignored"), 2);
  assert.equal(c.drop("ndp-invalid"), 2);
});

Deno.test("the switch solicits its next hops on each underlay link when a route is set", () => {
  const s = sled();
  s.sw.setRoute("fd00:2::/64", [{ link: "ul0", via: "fe80::ff" }, {
    link: "ul1",
    via: "fe80::ff",
  }]);
  s.step();
  assert.deepEqual(s.rack[0].take().map(hex), [hex(expectedMulticastNs(0))]);
  assert.deepEqual(s.rack[1].take().map(hex), [hex(expectedMulticastNs(1))]);
});

Deno.test("a zone pinging its router's link-local gets an echo reply from the gateway", () => {
  const s = sled();
  const zaLL = "fe80::aa40:25ff:fe00:10a";
  const echo = (
    kind: "echoRequest" | "echoReply",
    src: string,
    dst: string,
    sm: string,
    dm: string,
  ) =>
    frame([
      { type: "ethernet", src: sm, dst: dm },
      { type: "ipv6", src, dst, hopLimit: 64 },
      { type: "icmpv6", kind, id: 0x1234, seq: 7 },
      { type: "payload", data: "ping the router" },
    ]);
  s.zones[ZA.name].inject(echo("echoRequest", zaLL, GW_LL, ZA.mac, GW_MAC));
  s.step();
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [
    hex(echo("echoReply", GW_LL, zaLL, GW_MAC, ZA.mac)),
  ]);
});
