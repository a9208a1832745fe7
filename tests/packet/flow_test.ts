import assert from "node:assert/strict";
import * as fc from "fast-check";
import { FlowId } from "../../lib/packet/flow.ts";
import { parseIpv4, parseIpv6 } from "../../lib/packet/bytes.ts";

function v4(src: string, sport: number, dst: string, dport: number): FlowId {
  const b = new Uint8Array(8);
  b.set(parseIpv4(src)!, 0);
  b.set(parseIpv4(dst)!, 4);
  return new FlowId().setV4(6, b, 0, 4, sport, dport);
}

Deno.test("flow id: mirror swaps ends and is an involution", () => {
  const f = v4("10.0.0.5", 40000, "8.8.8.8", 443);
  assert.equal(f.toString(), "TCP 10.0.0.5:40000 -> 8.8.8.8:443");
  const m = f.mirror();
  assert.equal(m.toString(), "TCP 8.8.8.8:443 -> 10.0.0.5:40000");
  assert.ok(m.mirror().equals(f));
  assert.ok(!m.equals(f));
});

Deno.test("flow id: IPv6 text form and stable hash", () => {
  const b = new Uint8Array(32);
  b.set(parseIpv6("fd00:1::10")!, 0);
  b.set(parseIpv6("fd00:2::10")!, 16);
  const f = new FlowId().setV6(17, b, 0, 16, 5353, 53);
  assert.equal(f.toString(), "UDP [fd00:1::10]:5353 -> [fd00:2::10]:53");
  // A fixed value: the hash picks ECMP links and Geneve source ports, so it must not drift.
  assert.equal(f.hash(), f.clone().hash());
  assert.equal(v4("10.0.0.5", 40000, "8.8.8.8", 443).hash(), 2425383959);
});

Deno.test("flow id: hash spreads over ports (ECMP needs both halves)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1024, max: 65535 }), { minLength: 64, maxLength: 64 }),
      (ports) => {
        const distinct = new Set(ports);
        if (distinct.size < 48) return;
        let odd = 0;
        for (const p of distinct) {
          odd += v4("10.0.0.5", p, "8.8.8.8", 443).hash() & 1;
        }
        assert.ok(
          odd > distinct.size * 0.2 && odd < distinct.size * 0.8,
          `${odd}/${distinct.size}`,
        );
      },
    ),
  );
});
