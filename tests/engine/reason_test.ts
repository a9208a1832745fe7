import assert from "node:assert/strict";
import { findReason, reason, ReasonCounts } from "../../lib/engine/reason.ts";

Deno.test("reasons: one object per name, counted by id, read back by name", () => {
  const a = reason("test: reason a"), b = reason("test: reason b");
  assert.equal(reason("test: reason a"), a);
  assert.notEqual(a.id, b.id);
  assert.equal(findReason("test: reason b"), b);
  assert.equal(findReason("test: never registered"), undefined);
  const c = new ReasonCounts();
  assert.equal(c.size, 0);
  c.add(b);
  c.add(a);
  c.add(b);
  assert.equal(c.of(b), 2);
  assert.equal(c.get("test: reason a"), 1);
  assert.equal(c.get("test: reason b"), 2);
  // As a Map would: a name never counted reads undefined, not 0.
  assert.equal(c.get("test: never registered"), undefined);
  assert.equal(c.size, 2);
  // Registration order, whatever the counting order.
  assert.deepEqual([...c], [["test: reason a", 1], ["test: reason b", 2]]);
  assert.deepEqual(JSON.stringify(c), '{"test: reason a":1,"test: reason b":2}');
  assert.deepEqual(new Map(c), new Map([["test: reason a", 1], ["test: reason b", 2]]));
  c.clear();
  assert.equal(c.size, 0);
});

Deno.test("reasons: a layer-qualified reason is registered once and reads 'layer: name'", () => {
  const r = reason("test: qualified");
  const q = r.in("firewall");
  assert.equal(q.name, "firewall: test: qualified");
  assert.equal(r.in("firewall"), q);
  assert.equal(r.in(""), r);
  assert.equal(`${q}`, "firewall: test: qualified");
});

Deno.test("reasons: counters made before a reason is registered grow to count it", () => {
  const c = new ReasonCounts();
  const late = Array.from({ length: 200 }, (_, i) => reason(`test: late ${i}`));
  for (const r of late) c.add(r);
  c.add(late[199]);
  assert.equal(c.size, 200);
  assert.equal(c.get("test: late 0"), 1);
  assert.equal(c.get("test: late 199"), 2);
});
