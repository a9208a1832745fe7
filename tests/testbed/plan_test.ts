import assert from "node:assert/strict";
import { allNamespaces, makePlan, newPrefix } from "../../lib/testbed/plan.ts";

Deno.test("plan: every namespace and link name fits IFNAMSIZ (≤ 15) and is unique", () => {
  const p = makePlan(newPrefix());
  const ns = allNamespaces(p);
  assert.equal(new Set(ns).size, ns.length);
  assert.equal(ns.length, 12);
  for (const n of ns) assert.ok(n.length <= 15, n);
  for (const s of p.sleds) {
    const ports = [...s.zones, ...s.vms].map((z) => z.port);
    assert.equal(new Set(ports).size, ports.length);
    for (const l of [...ports, ...s.uplinks.map((u) => u.name)]) assert.ok(l.length <= 15, l);
  }
});

Deno.test("plan: addresses follow the sled prefix, MACs are unique", () => {
  const p = makePlan("tbx1");
  assert.equal(p.sleds[0].ns, "tbx1-s1");
  assert.equal(p.sleds[1].zones[0].ip6, "fd00:2::10");
  assert.equal(p.sleds[0].zones[1].ip6, "fd00:1::11");
  assert.deepEqual(p.sleds[0].uplinks.map((u) => u.ll), ["fe80::1:1", "fe80::1:2"]);
  assert.deepEqual(p.sleds[0].uplinks.map((u) => u.rack), ["tbx1-rack0", "tbx1-rack1"]);
  const macs = [
    ...p.sleds.flatMap((s) => [
      s.hostMac,
      ...s.uplinks.flatMap((u) => [u.mac, u.rackMac]),
      ...s.zones.map((z) => z.mac),
      ...s.vms.map((v) => v.mac),
    ]),
    p.boundary.ulMac,
    p.boundary.extMac,
    p.external.mac,
  ];
  assert.equal(new Set(macs).size, macs.length);
  for (const m of macs) assert.match(m, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
});

Deno.test("plan: prefixes that would overflow names are refused", () => {
  assert.throws(() => makePlan("toolongpfx"), /1-7 lowercase/);
  assert.throws(() => makePlan("Bad"), /1-7 lowercase/);
  assert.match(newPrefix(), /^tb[a-z0-9]{4}$/);
});
