import assert from "node:assert/strict";
import { startHarness } from "./helpers.ts";
import { xdeno } from "./cli_helpers.ts";

Deno.test("CLI against a running service: aligned tables, --json, errors", async () => {
  const h = await startHarness();
  try {
    let r = await xdeno(h.url, "list-ports");
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      [
        "NAME   KIND      MAC                ZONE  IPv4         IPv6           EXTERNAL IP  VNI  STATE    SOURCE",
        "dns0   system    a8:40:25:00:00:10  dns   -            fd00:1::10/64  -            -    running  config",
        "opte0  instance  a8:40:25:f0:00:01  -     10.0.0.5/24  -              -            10   running  config",
        "",
      ].join("\n"),
    );
    r = await xdeno(h.url, "list-ports", "--json");
    assert.deepEqual(JSON.parse(r.out).map((p: { name: string }) => p.name), ["dns0", "opte0"]);

    r = await xdeno(
      h.url,
      "add-fw-rule",
      "opte0",
      "--direction",
      "out",
      "--priority",
      "7",
      "--action",
      "deny",
      "--protocol",
      "udp",
      "--ports",
      "53",
      "--host",
      "192.0.2.0/24",
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(h.ctl.state.firewall.get("opte0")![1], {
      id: 1,
      direction: "out",
      priority: 7,
      action: "deny",
      protocol: "udp",
      ports: "53",
      host: "192.0.2.0/24",
    });
    r = await xdeno(h.url, "list-fw-rules", "opte0");
    assert.equal(
      r.out,
      [
        // The API now owns opte0's whole rule table (state.json pins it).
        "ID  DIR  PRI  ACTION  PROTO  PORTS  HOST          SOURCE",
        "0   in   100  allow   tcp    22     any           api",
        "1   out  7    deny    udp    53     192.0.2.0/24  api",
        "",
      ].join("\n"),
    );
    r = await xdeno(h.url, "rm-fw-rule", "opte0", "0");
    assert.equal(r.code, 0);
    assert.deepEqual(h.ctl.state.firewall.get("opte0")!.map((x) => x.id), [1]);

    r = await xdeno(h.url, "set-v2p", "10", "10.0.0.7", "a8:40:25:f0:00:07", "fd00:2::7");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "dump-v2p");
    assert.equal(
      r.out,
      [
        "VNI  IP        MAC                UNDERLAY   SOURCE",
        "10   10.0.0.6  a8:40:25:f0:00:02  fd00:2::1  config",
        "10   10.0.0.7  a8:40:25:f0:00:07  fd00:2::7  api",
        "",
      ].join("\n"),
    );
    r = await xdeno(h.url, "dump-v2p", "--json");
    assert.equal(JSON.parse(r.out).length, 2);
    r = await xdeno(h.url, "set-v2b", "0.0.0.0/0", "fd00:99::1", "fd00:99::2", "--vni", "10");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "dump-v2b");
    assert.equal(
      r.out,
      "VNI  PREFIX     ENDPOINTS              SOURCE\n10   0.0.0.0/0  fd00:99::1,fd00:99::2  api\n",
    );
    r = await xdeno(h.url, "add-router-entry", "-p", "opte0", "0.0.0.0/0", "ig", "system");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(
      h.url,
      "set-external-ips",
      "opte0",
      "--snat",
      "203.0.113.9:1024-2047",
      "--floating",
      "203.0.113.5",
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(h.ctl.state.externalIps.get("opte0"), {
      snat: { ip: "203.0.113.9", ports: [1024, 2047] },
      ephemeral: [],
      floating: ["203.0.113.5"],
    });

    r = await xdeno(h.url, "mcast-subscribe", "dns0", "239.1.1.1");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(h.ctl.state.subscription.get("dns0"), ["239.1.1.1"]);
    r = await xdeno(h.url, "set-mcast-fwd", "ff04::1", "fd00:2::1=underlay", "fd00:3::1");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "dump-mcast-fwd");
    assert.equal(
      r.out,
      "UNDERLAY  NEXT HOPS                              SOURCE\nff04::1   fd00:2::1=underlay,fd00:3::1=external  api\n",
    );
    r = await xdeno(h.url, "list-layers", "opte0");
    assert.equal(r.code, 1);
    assert.equal(r.err, "xdeno list-layers: 501: memory datapath has no layers\n");

    // Refusals: the service's field and reason, exit 1; usage errors exit 2.
    r = await xdeno(h.url, "set-v2p", "10", "10.0.0.300", "a8:40:25:f0:00:07", "fd00:2::7");
    assert.equal(r.code, 1);
    assert.match(r.err, /^xdeno set-v2p: 400: ip: "10\.0\.0\.300" is not an IP address/);
    r = await xdeno(h.url, "rm-fw-rule", "opte0");
    assert.equal(r.code, 2);
    r = await xdeno("http://127.0.0.1:1", "list-ports");
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot reach/);
  } finally {
    await h.close();
  }
});
