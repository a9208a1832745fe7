// The next hop an overlay flow leaves by is cached on its UFT entry for the current route
// generation: flows spread over the live next hops and each stays on its link, and a route
// change or a next hop going down moves an established flow at once.
import assert from "node:assert/strict";
import type { MemoryLink } from "../../lib/link/memory.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { frame, GW_MAC, RACK_LL, rackAnswers, routedSled, SLED, type Sled } from "./harness.ts";
import { A, B, SLED2, udp4, vm, VNI } from "./vpcsled.ts";

/** A sled with instance A, instance B on sled 2 (reached over both underlay links). */
function setup(): { s: Sled; ga: MemoryLink } {
  const s = routedSled();
  const maps = new Mappings();
  maps.v2p.set(VNI, A.ip, A.mac, SLED);
  maps.v2p.set(VNI, B.ip, B.mac, SLED2);
  return { s, ga: vm(s, A, SLED, maps) };
}

/** Sends one datagram of flow `sport` from A to B; returns the underlay link index it left by. */
function send(s: Sled, ga: MemoryLink, sport: number): number {
  ga.inject(frame(udp4(A.mac, GW_MAC, A.ip, B.ip, 64, sport)));
  s.step();
  // Geneve frames only (IPv6 next header UDP); NDP probes may share the wire
  const out = s.rack.map((r) => r.take().filter((f) => f[20] === 17).length);
  assert.equal(out[0] + out[1], 1, `flow ${sport}: one Geneve frame out (${out})`);
  return out[0] === 1 ? 0 : 1;
}

Deno.test("ECMP: overlay flows spread over both links and each flow keeps its link", () => {
  const { s, ga } = setup();
  const first = Array.from({ length: 64 }, (_, k) => send(s, ga, 5000 + k));
  const perLink = [first.filter((l) => l === 0).length, first.filter((l) => l === 1).length];
  assert.ok(perLink[0] >= 8 && perLink[1] >= 8, `64 flows split ${perLink}`);
  // Later packets of each flow are UFT hits, served by the cached next hop: same link.
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(Array.from({ length: 64 }, (_, k) => send(s, ga, 5000 + k)), first);
  }
});

Deno.test("ECMP: a route change moves an established flow; restoring it brings it back", () => {
  const { s, ga } = setup();
  const sport = 6000;
  const was = send(s, ga, sport);
  assert.equal(send(s, ga, sport), was);
  const other = 1 - was;
  s.sw.setRoute("fd00:2::/64", [{ link: `ul${other}`, via: RACK_LL }]);
  s.step();
  assert.equal(send(s, ga, sport), other, "the new route generation moved the flow");
  assert.equal(send(s, ga, sport), other);
  s.sw.setRoute("fd00:2::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  s.step();
  rackAnswers(s); // the released hop's neighbour is solicited again
  s.step();
  assert.equal(send(s, ga, sport), was, "both hops again: the flow returns to its hop");
});

Deno.test("ECMP: the link of an established flow going down moves it to the other", () => {
  const { s, ga } = setup();
  const sport = 7000;
  const was = send(s, ga, sport);
  s.uplinks[was].setUp(false);
  s.step(50); // a timer pass sees the carrier change
  assert.equal(send(s, ga, sport), 1 - was);
});
