// Per-port DHCP options over the API (issue 18): `overlay.dhcp` in upstream's DhcpCfg terms.

import assert from "node:assert/strict";
import { startHarness } from "./helpers.ts";

Deno.test("ports: DHCP options are set with the port (overlay.dhcp) and shown back; bad names are 400", async () => {
  const h = await startHarness();
  try {
    const dhcp = {
      hostname: "testbox",
      hostDomain: "test.oxide.computer",
      domainSearchList: ["oxide.computer"],
      dns4Servers: ["8.8.8.8"],
      dns6Servers: ["2001:4860:4860::8888"],
    };
    let r = await h.call("POST", "/v1/ports", {
      name: "opte2",
      kind: "instance",
      mac: "A8:40:25:F0:00:04",
      overlay: { vni: 10, ipv4: "10.0.0.8/24", dhcp },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    r = await h.call("GET", "/v1/ports/opte2");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.overlay.dhcp, dhcp);
    r = await h.call("POST", "/v1/ports", {
      name: "opte3",
      kind: "instance",
      mac: "A8:40:25:F0:00:05",
      overlay: { vni: 10, ipv4: "10.0.0.9/24", dhcp: { hostname: "no_underscores" } },
    });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /overlay\.dhcp\.hostname/);
    assert.match(JSON.stringify(r.body), /is not a DNS name/);
    assert.equal(h.dp.ports.has("opte3"), false);
  } finally {
    await h.close();
  }
});
