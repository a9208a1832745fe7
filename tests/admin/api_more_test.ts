import assert from "node:assert/strict";
import { startHarness } from "./helpers.ts";

Deno.test("multicast: subscriptions per port (removed with the port) and underlay forwarding", async () => {
  const h = await startHarness();
  try {
    let r = await h.call("POST", "/v1/ports/dns0/multicast", { group: "239.1.1.1" });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, ["239.1.1.1"]);
    assert.equal(
      (await h.call("POST", "/v1/ports/dns0/multicast", { group: "239.1.1.1" })).status,
      409,
    );
    assert.equal(
      (await h.call("POST", "/v1/ports/dns0/multicast", { group: "ff0e::1:3" })).status,
      201,
    );
    assert.deepEqual((await h.call("GET", "/v1/ports/dns0/multicast")).body, [
      "239.1.1.1",
      "ff0e::1:3",
    ]);
    assert.equal((await h.call("DELETE", "/v1/ports/dns0/multicast?group=239.1.1.1")).status, 200);
    assert.equal((await h.call("DELETE", "/v1/ports/dns0/multicast?group=239.1.1.1")).status, 404);
    assert.deepEqual((await h.call("GET", "/v1/ports/dns0")).body.multicast, ["ff0e::1:3"]);

    const f = {
      underlay: "ff04::e001:101",
      nextHops: [{ via: "fd00:2::1", replication: "underlay" }],
    };
    assert.equal((await h.call("PUT", "/v1/multicast/forwarding", f)).status, 200);
    assert.deepEqual((await h.call("GET", "/v1/multicast/forwarding")).body, [{
      ...f,
      source: "api",
    }]);
    r = await h.call("PUT", "/v1/multicast/forwarding", {
      ...f,
      nextHops: [{ via: "fd00:2::1", replication: "all" }],
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, "nextHops[0].replication");
    assert.equal(
      (await h.call("DELETE", "/v1/multicast/forwarding?underlay=ff04::e001:101")).status,
      200,
    );

    assert.equal((await h.call("DELETE", "/v1/ports/dns0")).status, 200);
    assert.equal(h.ctl.state.subscription.has("dns0"), false);
  } finally {
    await h.close();
  }
});

Deno.test("layers, underlay links and neighbours: 501 on a datapath without them, 404 for unknown ports", async () => {
  const h = await startHarness();
  try {
    assert.equal((await h.call("GET", "/v1/ports/opte0/layers")).status, 501);
    assert.equal((await h.call("GET", "/v1/ports/opte0/layers/firewall")).status, 501);
    assert.equal((await h.call("GET", "/v1/ports/nope/layers")).status, 404);
    assert.equal((await h.call("GET", "/v1/ports/opte0/layers/BAD!")).status, 400);
    const r = await h.call("GET", "/v1/underlay/links");
    assert.equal(r.status, 501);
    assert.match(r.body.error, /memory datapath has no underlay links/);
    assert.equal((await h.call("GET", "/v1/underlay/neighbours")).status, 501);
  } finally {
    await h.close();
  }
});
