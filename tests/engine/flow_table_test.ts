import assert from "node:assert/strict";
import * as fc from "fast-check";
import { FlowTable } from "../../lib/engine/flow_table.ts";
import { FlowId } from "../../lib/packet/flow.ts";

function key(n: number): FlowId {
  const f = new FlowId();
  f.w[0] = (4 << 8) | 17;
  f.w[1] = n;
  f.w[9] = n * 7;
  return f;
}

Deno.test("flow table behaves like a Map under random insert/delete (backward-shift deletion)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(3, 4, 40),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 })), { maxLength: 300 }),
      (limit, ops) => {
        const t = new FlowTable<number>(limit);
        const m = new Map<number, number>();
        for (const [ins, n] of ops) {
          if (ins) {
            const slot = t.set(key(n), n, 0);
            if (m.has(n) || m.size < limit) {
              assert.ok(slot >= 0);
              m.set(n, n);
            } else assert.equal(slot, -1);
          } else {
            assert.equal(t.delete(key(n)), m.has(n) ? n : null);
            m.delete(n);
          }
          assert.equal(t.size, m.size);
        }
        for (let n = 0; n <= 60; n++) assert.equal(t.get(key(n)), m.has(n) ? n : null);
        assert.deepEqual(t.values().sort((a, b) => a - b), [...m.keys()].sort((a, b) => a - b));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("flow table: limit, lastHit per slot, keyAt, clear", () => {
  const t = new FlowTable<string>(2);
  assert.ok(t.set(key(1), "a", 5) >= 0);
  assert.ok(t.set(key(2), "b", 6) >= 0);
  assert.ok(t.full);
  assert.equal(t.set(key(3), "c", 7), -1);
  assert.ok(t.set(key(2), "B", 8) >= 0);
  const s = t.find(key(2));
  assert.equal(t.lastHit[s], 8);
  assert.ok(t.keyAt(s, new FlowId()).equals(key(2)));
  // Entry indices are stable: deleting another entry does not move this one.
  t.delete(key(1));
  assert.equal(t.find(key(2)), s);
  assert.equal(t.valueAt(s), "B");
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.get(key(1)), null);
  assert.throws(() => new FlowTable(0), RangeError);
});
