import assert from "node:assert/strict";
import { parseAddrWords } from "../../lib/packet/addr.ts";
import {
  parseRouterTarget,
  routePriority,
  RouterTable,
  routerTargetText,
  validateRoute,
} from "../../lib/vpc/router.ts";

const look = (t: RouterTable, ip: string) => {
  const a = parseAddrWords(ip)!;
  return t.lookup(a.af, a.words);
};

Deno.test("router: longest prefix wins; custom beats system at equal length; no route → null", () => {
  const t = new RouterTable();
  t.add({ dest: "0.0.0.0/0", target: { kind: "internet-gateway" }, class: "system" });
  t.add({
    dest: "172.30.0.0/22",
    target: { kind: "vpc-subnet", cidr: "172.30.0.0/22" },
    class: "system",
  });
  t.add({ dest: "172.30.0.0/22", target: { kind: "drop" }, class: "custom" });
  t.add({ dest: "172.30.1.0/24", target: { kind: "ip", ip: "172.30.0.9" }, class: "system" });
  assert.equal(look(t, "8.8.8.8")?.target.kind, "internet-gateway");
  assert.equal(look(t, "172.30.0.7")?.target.kind, "drop"); // custom tie-break
  assert.equal(look(t, "172.30.1.7")?.target.kind, "ip"); // longer system beats shorter custom
  assert.equal(look(t, "fd00::1"), null); // no v6 route at all
  const drop22 = { dest: "172.30.0.0/22", target: { kind: "drop" }, class: "custom" } as const;
  assert.ok(t.remove(drop22));
  assert.equal(look(t, "172.30.0.7")?.target.kind, "vpc-subnet");
  assert.equal(t.remove(drop22), false);
  assert.deepEqual(t.list().map((r) => `${r.dest} ${r.class}`), [
    "172.30.1.0/24 system",
    "172.30.0.0/22 system",
    "0.0.0.0/0 system",
  ]);
});

Deno.test("router: replaceAll per class, generation bumps, targets encode", () => {
  const t = new RouterTable();
  t.add({ dest: "::/0", target: { kind: "internet-gateway" }, class: "system" });
  const g = t.generation;
  t.replaceAll([
    { dest: "2001:db8::/32", target: { kind: "drop" }, class: "custom" },
    { dest: "::/0", target: { kind: "drop" }, class: "custom" },
  ], "custom");
  assert.ok(t.generation > g);
  assert.equal(look(t, "2001:db8::1")?.target.kind, "drop");
  assert.equal(look(t, "2002::1")?.class, "custom");
  t.replaceAll([], "custom");
  assert.equal(look(t, "2002::1")?.target.kind, "internet-gateway");
  assert.ok(routePriority(24, "custom") < routePriority(24, "system"));
  assert.ok(routePriority(24, "system") < routePriority(16, "custom"));
});

Deno.test("router: validation names the field", () => {
  assert.deepEqual(
    validateRoute({ dest: "10.0.0.1/24", target: { kind: "drop" }, class: "system" }),
    {
      field: "route.dest",
      message:
        '"10.0.0.1/24" is not a prefix (expected e.g. 10.0.0.0/24 or fd00::/64 with host bits zero)',
    },
  );
  assert.deepEqual(
    validateRoute({ dest: "10.0.0.0/24", target: { kind: "ip", ip: "fd00::1" }, class: "custom" }),
    { field: "route.target.ip", message: "fd00::1 is not of the destination's family (IPv4)" },
  );
  assert.throws(
    () =>
      new RouterTable().replaceAll([
        { dest: "10.0.0.0/8", target: { kind: "drop" }, class: "system" },
        { dest: "10.0.0.0/8", target: { kind: "vpc-subnet", cidr: "bad" }, class: "system" },
      ]),
    /routes\[1\]\.target\.cidr: "bad"/,
  );
  assert.deepEqual(parseRouterTarget("ip=10.0.0.1"), { kind: "ip", ip: "10.0.0.1" });
  assert.deepEqual(parseRouterTarget("ig"), { kind: "internet-gateway" });
  assert.deepEqual(parseRouterTarget("subnet=10.0.0.0/8"), {
    kind: "vpc-subnet",
    cidr: "10.0.0.0/8",
  });
  assert.equal(parseRouterTarget("ip=10.0.0"), null);
});

Deno.test("router: priorities are upstream's table ((max_len - len) << 1 | is_system) + 10", () => {
  // Values from the table in upstream's router.rs comment, per family.
  assert.equal(routePriority(32, "custom", 4), 10);
  assert.equal(routePriority(32, "system", 4), 11);
  assert.equal(routePriority(31, "custom", 4), 12);
  assert.equal(routePriority(0, "custom", 4), 74);
  assert.equal(routePriority(0, "system", 4), 75);
  assert.equal(routePriority(128, "system", 6), 11);
  assert.equal(routePriority(0, "custom", 6), 266);
  assert.equal(routePriority(0, "system", 6), 267);
});

Deno.test("router: duplicates are kept; deletion needs the exact destination, target and class", () => {
  const t = new RouterTable();
  const ig = { dest: "0.0.0.0/0", target: { kind: "internet-gateway" }, class: "system" } as const;
  t.add(ig);
  t.add(ig);
  assert.equal(t.entries().length, 2);
  // Same destination, other target or class: not the entry.
  assert.equal(t.remove({ ...ig, class: "custom" }), false);
  assert.equal(t.remove({ ...ig, target: { kind: "internet-gateway", id: "igw-1" } }), false);
  assert.equal(t.remove({ ...ig, target: { kind: "drop" } }), false);
  assert.ok(t.remove(ig));
  assert.equal(t.entries().length, 1);
  assert.ok(t.remove(ig));
  assert.equal(look(t, "8.8.8.8"), null);
  // The same address written differently is the same target.
  t.add({ dest: "fd00::/64", target: { kind: "ip", ip: "fd00::0:5" }, class: "custom" });
  assert.ok(
    t.remove({ dest: "fd00::/64", target: { kind: "ip", ip: "fd00::5" }, class: "custom" }),
  );
});

Deno.test("router: opteadm's target text round-trips; multicast destinations are refused", () => {
  for (
    const s of [
      "drop",
      "ig",
      "ig=00000000-0000-0000-0000-000000000002",
      "ip4=10.0.0.5",
      "ip6=fd00::5",
      "sub4=10.0.0.0/24",
      "sub6=fd00::/64",
    ]
  ) {
    const t = parseRouterTarget(s);
    assert.ok(t, s);
    assert.equal(routerTargetText(t), s);
  }
  assert.equal(parseRouterTarget("ip4=fd00::5"), null);
  assert.equal(parseRouterTarget("sub6=10.0.0.0/8"), null);
  const mc = validateRoute({ dest: "224.0.0.0/4", target: { kind: "drop" }, class: "custom" });
  assert.ok("field" in mc && mc.field === "route.dest", JSON.stringify(mc));
  assert.match(mc.message, /^224\.0\.0\.0\/4 is a multicast prefix/);
});
