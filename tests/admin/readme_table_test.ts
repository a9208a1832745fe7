// The README's opteadm/ioctl table names only routes the API document has, and covers every
// OpteCmd upstream defines (ids 1-109 as listed in crates/opte-api/src/cmd.rs).

import assert from "node:assert/strict";
import { startHarness } from "./helpers.ts";

const README = new URL("../../README.md", import.meta.url);

/** OpteCmd names of upstream's ioctl list, written out from cmd.rs. */
const OPTE_CMDS = [
  "ListPorts",
  "AddFwRule",
  "RemFwRule",
  "SetFwRules",
  "DumpTcpFlows",
  "DumpLayer",
  "DumpUft",
  "ListLayers",
  "ClearUft",
  "ClearLft",
  "SetVirt2Phys",
  "DumpVirt2Phys",
  "SetVirt2Boundary",
  "ClearVirt2Boundary",
  "DumpVirt2Boundary",
  "ClearVirt2Phys",
  "AddRouterEntry",
  "DelRouterEntry",
  "CreateXde",
  "DeleteXde",
  "SetXdeUnderlay",
  "ClearXdeUnderlay",
  "SetExternalIps",
  "AllowCidr",
  "RemoveCidr",
  "AttachSubnet",
  "DetachSubnet",
  "SetMcastForwarding",
  "ClearMcastForwarding",
  "DumpMcastForwarding",
  "McastSubscribe",
  "McastUnsubscribe",
  "SetMcast2Phys",
  "ClearMcast2Phys",
  "DumpMcastSubscriptions",
  "McastUnsubscribeAll",
  "DumpMcast2Phys",
]; // deno-fmt-ignore

Deno.test("README ioctl table: every OpteCmd is there and every route exists", async () => {
  const text = await Deno.readTextFile(README);
  const start = text.indexOf("## From opteadm and OPTE's ioctls to xdeno");
  assert.ok(start >= 0, "no mapping table in the README");
  const rows = text.slice(start).split("\n## ")[0].split("\n").filter((l) => /^\| \w/.test(l))
    .slice(1);
  const cmds = rows.map((r) => r.split("|")[1].trim().split(" ")[0]);
  assert.deepEqual(OPTE_CMDS.filter((c) => !cmds.includes(c)), []);
  const h = await startHarness();
  try {
    const doc = (await h.call("GET", "/v1/openapi.json")).body;
    const known = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap((
      [p, ops],
    ) => Object.keys(ops).map((m) => ({ m: m.toUpperCase(), re: pathRegex(p) })));
    let routes = 0;
    for (const r of rows) {
      for (const [, m, p] of r.matchAll(/`(GET|PUT|POST|DELETE) ([^`?]+)[^`]*`/g)) {
        routes++;
        assert.ok(known.some((k) => k.m === m && k.re.test(p)), `${m} ${p} is not in the API`);
      }
    }
    assert.ok(routes >= 36, `only ${routes} routes in the table`);
  } finally {
    await h.close();
  }
});

/** `/v1/ports/{name}/flows/{table}` → a regex matching concrete and templated paths. */
function pathRegex(p: string): RegExp {
  const parts = p.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("(\\{[^}]+\\}|[^/]+)")}$`);
}
