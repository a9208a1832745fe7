// Root only: builds real network namespaces. Skipped (visibly, as "ignored") otherwise.
import assert from "node:assert/strict";
import { isRoot, run } from "../../lib/testbed/exec.ts";
import { allNamespaces, stateDir } from "../../lib/testbed/plan.ts";
import { listNamespaces, Topology, up } from "../../lib/testbed/topology.ts";
import { formatResults, kernelChecks, verify } from "../../lib/testbed/verify.ts";

const root = isRoot();
if (!root) {
  console.warn("tests/testbed/topology_test.ts: not root, network-namespace tests skipped");
}

async function assertGone(t: Topology): Promise<void> {
  const left = new Set(await listNamespaces());
  assert.deepEqual(allNamespaces(t.plan).filter((n) => left.has(n)), []);
  const links = await run(["ip", "-j", "link", "show"]);
  assert.ok(
    !links.stdout.includes(t.plan.prefix),
    "no link in the root namespace carries the prefix",
  );
  await assert.rejects(Deno.stat(stateDir(t.plan.prefix)));
}

Deno.test({
  name: "topology (root): kernel mode, two instances in parallel: all pings pass, nothing left",
  ignore: !root,
  async fn() {
    const [a, b] = await Promise.all([up({ mode: "kernel" }), up({ mode: "kernel" })]);
    try {
      assert.notEqual(a.plan.prefix, b.plan.prefix);
      const [ra, rb] = await Promise.all([verify(a), verify(b)]);
      assert.equal(ra.length, kernelChecks(a.plan).length);
      assert.ok(ra.every((r) => r.ok), formatResults(ra));
      assert.ok(rb.every((r) => r.ok), formatResults(rb));
    } finally {
      await Promise.all([a.down(), b.down()]);
    }
    await assertGone(a);
    await assertGone(b);
    await a.down(); // idempotent
  },
});

Deno.test({
  name: "topology (root): switch mode leaves the switch-owned links bare",
  ignore: !root,
  async fn() {
    const t = await up({ mode: "switch" });
    try {
      const s1 = t.plan.sleds[0];
      const links = JSON.parse((await t.exec(s1.ns, ["ip", "-j", "addr", "show"])).stdout) as {
        ifname: string;
        flags: string[];
        addr_info: { family: string }[];
        mtu: number;
      }[];
      const byName = new Map(links.map((l) => [l.ifname, l]));
      for (const name of ["ul0", "ul1", "vza", "vzb", "vvm0", "vvm1"]) {
        const l = byName.get(name);
        assert.ok(l, `${name} exists in ${s1.ns}`);
        assert.ok(l.flags.includes("PROMISC"), `${name} promiscuous`);
        assert.equal(
          l.addr_info.filter((a) => a.family === "inet6").length,
          0,
          `${name} has no IPv6`,
        );
      }
      assert.equal(byName.get("ul0")!.mtu, 9000);
      assert.equal(byName.get("vza")!.mtu, 1500);
      assert.ok(!byName.has("xde0"), "the switch plumbs xde0 itself");
      const k = await t.exec(s1.zones[0].ns, ["ethtool", "-k", "eth0"]);
      assert.match(k.stdout, /^tx-checksumming: off/m);
      const r = await t.exec(s1.uplinks[0].rack, ["ip", "-6", "route", "show", s1.prefix]);
      assert.match(r.stdout, /via fe80::1:1 dev s1/);
    } finally {
      await t.down();
    }
    await assertGone(t);
  },
});
