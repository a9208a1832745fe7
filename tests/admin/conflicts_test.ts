// The API refuses a second port on one (VNI, overlay address) or one external IP on two ports:
// 409 naming both places, nothing changed, nothing persisted.

import assert from "node:assert/strict";
import { startHarness } from "./helpers.ts";

const TAIL = ": each must belong to one port";

Deno.test("add-port with an existing port's VNI and overlay address: 409 naming both, nothing changed", async () => {
  const h = await startHarness();
  try {
    const before = await h.call("GET", "/v1/ports");
    const applied = h.dp.applied.get("port");
    const r = await h.call("POST", "/v1/ports", {
      name: "opte9",
      kind: "instance",
      mac: "a8:40:25:f0:00:09",
      overlay: { vni: 10, ipv4: "10.0.0.5/24" },
      externalIps: { floating: ["203.0.113.10"] },
    });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, {
      field: "ports.opte9.overlay.ipv4",
      error: `VNI 10 address 10.0.0.5 is already used by ports.opte0.overlay.ipv4${TAIL}`,
    });
    assert.deepEqual(await h.call("GET", "/v1/ports"), before);
    assert.equal(h.dp.applied.get("port"), applied);
    await assert.rejects(Deno.stat(`${h.dir}/state.json`), Deno.errors.NotFound);
    // Another VNI may reuse the address.
    const ok = await h.call("POST", "/v1/ports", {
      name: "opte9",
      kind: "instance",
      mac: "a8:40:25:f0:00:09",
      overlay: { vni: 11, ipv4: "10.0.0.5/24" },
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  } finally {
    await h.close();
  }
});

Deno.test("one IP as SNAT on one port and ephemeral on another: 409 naming both, nothing changed", async () => {
  const h = await startHarness();
  try {
    const snat = { snat: { ip: "203.0.113.9", ports: [1024, 2047] } };
    assert.equal((await h.call("PUT", "/v1/ports/opte0/external-ips", snat)).status, 200);
    const r0 = await h.call("POST", "/v1/ports", {
      name: "opte1",
      kind: "instance",
      mac: "a8:40:25:f0:00:02",
      overlay: { vni: 10, ipv4: "10.0.0.6/24" },
    });
    assert.equal(r0.status, 201);
    const saved = await Deno.readTextFile(`${h.dir}/state.json`);
    const r = await h.call("PUT", "/v1/ports/opte1/external-ips", { ephemeral: ["203.0.113.9"] });
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, {
      field: "ports.opte1.externalIps.ephemeral[0]",
      error: `external IP 203.0.113.9 is already used by ports.opte0.externalIps.snat.ip${TAIL}`,
    });
    assert.equal((await h.call("GET", "/v1/ports/opte1/external-ips")).body, null);
    assert.equal(await Deno.readTextFile(`${h.dir}/state.json`), saved);
    // Moving the address off opte0 first makes it free.
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/external-ips")).status, 200);
    const ok = await h.call("PUT", "/v1/ports/opte1/external-ips", { ephemeral: ["203.0.113.9"] });
    assert.equal(ok.status, 200);
  } finally {
    await h.close();
  }
});
