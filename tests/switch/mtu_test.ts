import assert from "node:assert/strict";
import {
  addZone,
  frame,
  GW_MAC,
  hex,
  REMOTE,
  routedSled,
  SLED,
  sled,
  udp6,
  UL,
  ZA,
  ZB,
} from "./harness.ts";

/** The ICMPv6 error the switch sends about `orig` (a whole frame) to `to`. */
function icmpErr(
  ethSrc: string,
  ethDst: string,
  to: string,
  kind: "packetTooBig" | "timeExceeded",
  mtu: number,
  orig: Uint8Array,
): string {
  const quote = orig.slice(14, 14 + Math.min(orig.length - 14, 1280 - 48));
  return hex(frame([
    { type: "ethernet", src: ethSrc, dst: ethDst },
    { type: "ipv6", src: SLED, dst: to, hopLimit: 64 },
    { type: "icmpv6", kind, ...(kind === "packetTooBig" ? { mtu } : {}) },
    { type: "payload", data: quote },
  ]));
}

Deno.test("zone→remote too big for the underlay MTU: PTB back to the zone, quoted ≤ 1280", () => {
  const s = routedSled({ ulMtu: 1500, portMtu: 9000 });
  const big = udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { size: 1600 });
  s.zones[ZA.name].inject(big);
  s.step();
  const got = s.zones[ZA.name].take();
  assert.deepEqual(got.map(hex), [icmpErr(GW_MAC, ZA.mac, ZA.ip, "packetTooBig", 1500, big)]);
  assert.equal(got[0].length, 14 + 1280);
  assert.equal(s.sw.counters.drop("too-big"), 1);
  // Exactly at the MTU passes.
  s.zones[ZA.name].inject(udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { size: 1500 - 48 }));
  s.step();
  assert.equal(s.rack[0].take().length + s.rack[1].take().length, 1);
});

Deno.test("underlay→zone too big for the port: PTB back out the link to the router", () => {
  const s = routedSled({ portMtu: 1500 });
  const big = udp6(UL[1].rackMac, UL[1].mac, REMOTE, ZA.ip, { size: 3000 });
  s.rack[1].inject(big);
  s.step();
  assert.deepEqual(s.zones[ZA.name].take(), []);
  assert.deepEqual(s.rack[1].take().map(hex), [
    icmpErr(UL[1].mac, UL[1].rackMac, REMOTE, "packetTooBig", 1500, big),
  ]);
});

Deno.test("zone→zone too big for the destination port: PTB to the sender, nothing delivered", () => {
  const s = sled({ portMtu: 9000 });
  s.sw.removePort(ZB.name);
  addZone(s, ZB, "system", 1500);
  const big = udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { size: 2000 });
  s.zones[ZA.name].inject(big);
  s.step();
  assert.equal(s.zones[ZB.name].take().length, 0);
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [
    icmpErr(GW_MAC, ZA.mac, ZA.ip, "packetTooBig", 1500, big),
  ]);
});

Deno.test("hop limit 1 is not routed: ICMPv6 time exceeded to the sender", () => {
  const s = routedSled();
  const f = udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { hop: 1 });
  s.zones[ZA.name].inject(f);
  s.step();
  assert.deepEqual(s.zones[ZA.name].take().map(hex), [
    icmpErr(GW_MAC, ZA.mac, ZA.ip, "timeExceeded", 0, f),
  ]);
  assert.equal(s.sw.counters.drop("hop-limit"), 1);
});

Deno.test("no ICMPv6 error about an ICMPv6 error", () => {
  const s = routedSled({ ulMtu: 1500, portMtu: 9000 });
  const err = frame([
    { type: "ethernet", src: ZA.mac, dst: GW_MAC },
    { type: "ipv6", src: ZA.ip, dst: REMOTE },
    { type: "icmpv6", kind: "destUnreachable", code: 4 },
    { type: "payload", data: new Uint8Array(2000) },
  ]);
  s.zones[ZA.name].inject(err);
  s.step();
  assert.deepEqual(s.zones[ZA.name].take(), []);
  assert.equal(s.sw.counters.drop("too-big"), 1);
});
