import assert from "node:assert/strict";
import fc from "fast-check";
import { parseIpv6 } from "../../lib/packet/bytes.ts";
import { NEIGH_REACHABLE, Neighbor } from "../../lib/switch/neighbor.ts";
import { inPrefix, Route, RouteTable, type UnderlayLink } from "../../lib/switch/routes.ts";
import { KeyTable } from "../../lib/switch/keytable.ts";

/** Next hops on `n` pretend links (only `up` and the neighbour state matter to a Route). */
function hops(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const neighbor = new Neighbor(parseIpv6(`fe80::${i + 1}`)!);
    neighbor.state = NEIGH_REACHABLE;
    return { ul: { up: true } as UnderlayLink, neighbor };
  });
}

Deno.test("ECMP pick: a failed hop's flows spread over survivors; nobody else moves; all return", () => {
  const hs = hops(4);
  const r = new Route(parseIpv6("fd00::")!, 16, hs);
  r.refresh();
  const flows = Array.from({ length: 4000 }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0);
  const before = flows.map((h) => hs.indexOf(r.pick(h)!));
  for (let k = 0; k < 4; k++) {
    assert.ok(before.filter((x) => x === k).length > 800, `hop ${k} underused`);
  }
  hs[2].ul.up = false;
  assert.equal(r.refresh(), true);
  const during = flows.map((h) => hs.indexOf(r.pick(h)!));
  flows.forEach((_, i) => {
    if (before[i] !== 2) assert.equal(during[i], before[i], "a healthy hop's flow moved");
    else assert.notEqual(during[i], 2);
  });
  const moved = during.filter((_, i) => before[i] === 2);
  for (const k of [0, 1, 3]) assert.ok(moved.filter((x) => x === k).length > 150);
  hs[2].ul.up = true;
  r.refresh();
  assert.deepEqual(flows.map((h) => hs.indexOf(r.pick(h)!)), before);
  for (const h of hs) h.neighbor.state = 2;
  r.refresh();
  assert.equal(r.pick(flows[0]), null);
});

Deno.test("ECMP pick: every hop failed its probes → a hop still holding a MAC on an up link", () => {
  const hs = hops(3);
  const r = new Route(parseIpv6("fd00::")!, 16, hs);
  for (const h of hs) h.neighbor.state = 2; // NEIGH_FAILED: a saturated peer lost our probes
  r.refresh();
  assert.equal(r.live.length, 0);
  assert.equal(r.pick(7), null, "no MAC anywhere: nothing to send to");
  hs[1].neighbor.hasMac = true;
  hs[2].neighbor.hasMac = true;
  hs[2].ul.up = false;
  const flows = Array.from({ length: 64 }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0);
  for (const f of flows) assert.equal(r.pick(f), hs[1], "only hs[1] has a MAC on an up link");
  hs[1].ul.up = false;
  for (const f of flows) assert.equal(r.pick(f), null, "a down link is never a last resort");
});

Deno.test("longest prefix wins; bit-level prefixes match exactly", () => {
  const t = new RouteTable();
  const mk = (p: string, len: number) => new Route(parseIpv6(p)!, len, hops(1));
  const wide = mk("fd00::", 16), narrow = mk("fd00:2::", 64), odd = mk("fd00:2:0:80::", 57);
  t.set(wide);
  t.set(narrow);
  t.set(odd);
  assert.equal(t.lookup(parseIpv6("fd00:2::10")!, 0), narrow);
  assert.equal(t.lookup(parseIpv6("fd00:2:0:ff::1")!, 0), odd);
  assert.equal(t.lookup(parseIpv6("fd00:2:0:7f::1")!, 0), wide);
  assert.equal(t.lookup(parseIpv6("fd01::1")!, 0), null);
  assert.equal(t.remove(parseIpv6("fd00:2::")!, 64), narrow);
  assert.equal(t.lookup(parseIpv6("fd00:2::10")!, 0), wide);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 128 }),
      (a, len) => {
        // An address is always in its own prefix; flipping the first bit past it never matters.
        assert.ok(inPrefix(a, 0, a, len));
        if (len < 128) {
          const b = a.slice();
          b[len >> 3] ^= 0x80 >> (len & 7);
          assert.ok(!inPrefix(b, 0, a, len + 1));
          assert.ok(inPrefix(b, 0, a, len));
        }
      },
    ),
  );
});

Deno.test("key table: lookups in place by bytes and tag, replace and delete", () => {
  const t = new KeyTable<string>(6);
  const mac = Uint8Array.of(0xa8, 0x40, 0x25, 0, 1, 0x0a);
  assert.equal(t.set(mac, 10, "a"), undefined);
  assert.equal(t.set(mac, 11, "b"), undefined);
  const frame = new Uint8Array(20);
  frame.set(mac, 7);
  assert.equal(t.get(frame, 7, 10), "a");
  assert.equal(t.get(frame, 7, 11), "b");
  assert.equal(t.get(frame, 6, 10), undefined);
  assert.equal(t.set(mac, 10, "c"), "a");
  assert.equal(t.size, 2);
  assert.equal(t.delete(mac, 10), true);
  assert.equal(t.delete(mac, 10), false);
  assert.equal(t.get(frame, 7, 10), undefined);
  assert.deepEqual([...t.values()], ["b"]);
});
