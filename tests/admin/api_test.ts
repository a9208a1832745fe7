import assert from "node:assert/strict";
import { canonical } from "../../lib/config/resources.ts";
import { StateStore } from "../../lib/service/state.ts";
import { startHarness } from "./helpers.ts";

Deno.test("ports: list, show, create, delete with its tables; persisted", async () => {
  const h = await startHarness();
  try {
    let r = await h.call("GET", "/v1/ports");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.map((p: { name: string }) => p.name), ["dns0", "opte0"]);
    assert.equal(r.body[1].firewallRules, 1);
    assert.equal(r.body[1].status.state, "running");

    r = await h.call("POST", "/v1/ports", {
      name: "opte1",
      kind: "instance",
      mac: "A8:40:25:F0:00:03",
      overlay: { vni: 10, ipv4: "10.0.0.7/24" },
      firewall: [{ direction: "out", priority: 10, action: "deny", host: "192.0.2.0/24" }],
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.name, "opte1");
    assert.ok(h.dp.ports.has("opte1"));
    r = await h.call("GET", "/v1/ports/opte1/firewall");
    assert.deepEqual(r.body, [{
      id: 0,
      direction: "out",
      priority: 10,
      action: "deny",
      protocol: "any",
      host: "192.0.2.0/24",
      source: "api",
    }]);

    const persisted = await new StateStore(h.dir).load();
    // No routes in the request: the port's system routes are seeded as ordinary entries.
    assert.deepEqual([...persisted.keys()].sort(), [
      "firewall\u0000opte1",
      "port\u0000opte1",
      "router\u0000opte1",
    ]);

    r = await h.call("DELETE", "/v1/ports/opte1");
    assert.equal(r.status, 200);
    assert.equal(h.dp.ports.has("opte1"), false);
    assert.equal(h.ctl.state.firewall.has("opte1"), false);
    r = await h.call("GET", "/v1/ports/opte1");
    assert.equal(r.status, 404);
    assert.equal(r.body.field, "name");
  } finally {
    await h.close();
  }
});

Deno.test("firewall: add assigns the next id, remove by id, replace all", async () => {
  const h = await startHarness();
  try {
    let r = await h.call("POST", "/v1/ports/opte0/firewall", {
      direction: "in",
      priority: 50,
      action: "deny",
      protocol: "udp",
      ports: "53",
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.id, 1);
    r = await h.call("GET", "/v1/ports/opte0/firewall");
    assert.deepEqual(r.body.map((x: { id: number; priority: number }) => [x.id, x.priority]), [[
      1,
      50,
    ], [0, 100]]);
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/firewall/0")).status, 200);
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/firewall/0")).status, 404);
    r = await h.call("POST", "/v1/ports/opte0/firewall", {
      direction: "in",
      priority: 60,
      action: "allow",
      protocol: "icmp",
      icmp: { type: 3, codes: [0, 4] },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.icmp, { type: 3, codes: [0, 4] });
    r = await h.call("POST", "/v1/ports/opte0/firewall", {
      direction: "in",
      priority: 61,
      action: "allow",
      protocol: "tcp",
      ports: "22,443,8000-8080",
    });
    assert.equal(r.status, 201);
    r = await h.call("POST", "/v1/ports/opte0/firewall", {
      direction: "in",
      priority: 62,
      action: "allow",
      protocol: 47,
    });
    assert.deepEqual([r.status, r.body.protocol], [201, 47]);
    r = await h.call("PUT", "/v1/ports/opte0/firewall", [
      { direction: "out", priority: 1, action: "allow" },
      { id: 7, direction: "in", priority: 2, action: "deny" },
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(h.ctl.state.firewall.get("opte0")!.map((x) => x.id), [8, 7]);
  } finally {
    await h.close();
  }
});

Deno.test("router entries, external IPs, underlay routes", async () => {
  const h = await startHarness();
  try {
    // opte0 (10.0.0.5/24, no routes in the config) starts with its system routes.
    let r = await h.call("GET", "/v1/ports/opte0/routes");
    assert.deepEqual(r.body, [
      {
        destination: "10.0.0.0/24",
        target: { kind: "vpc-subnet", cidr: "10.0.0.0/24" },
        class: "system",
        source: "config",
      },
      {
        destination: "0.0.0.0/0",
        target: { kind: "internet-gateway" },
        class: "system",
        source: "config",
      },
    ]);
    const igw = { destination: "0.0.0.0/0", target: { kind: "internet-gateway" }, class: "system" };
    // Duplicates are allowed (upstream's add_entry adds a rule each time).
    assert.equal((await h.call("POST", "/v1/ports/opte0/routes", igw)).status, 201);
    const viaIp = {
      destination: "10.1.0.0/16",
      target: { kind: "ip", ip: "10.0.0.6" },
      class: "custom",
    };
    assert.equal((await h.call("POST", "/v1/ports/opte0/routes", viaIp)).status, 201);
    r = await h.call("GET", "/v1/ports/opte0/routes");
    assert.equal(r.body.length, 4);
    // Deletion needs the exact (destination, target, class): a class mismatch changes nothing.
    r = await h.call("DELETE", "/v1/ports/opte0/routes", { ...igw, class: "custom" });
    assert.equal(r.status, 404);
    assert.equal(r.body.field, "destination");
    assert.equal(h.ctl.state.router.get("opte0")!.length, 4);
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/routes", igw)).status, 200);
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/routes", igw)).status, 200);
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/routes", igw)).status, 404);
    assert.deepEqual(h.ctl.state.router.get("opte0")!.map((e) => e.destination), [
      "10.0.0.0/24",
      "10.1.0.0/16",
    ]);

    r = await h.call("PUT", "/v1/ports/opte0/external-ips", {
      snat: { ip: "203.0.113.9", ports: [1024, 2047] },
    });
    assert.equal(r.status, 200);
    r = await h.call("GET", "/v1/ports/opte0/external-ips");
    assert.deepEqual(r.body, {
      snat: { ip: "203.0.113.9", ports: [1024, 2047] },
      ephemeral: [],
      floating: [],
      source: "api",
    });
    assert.equal((await h.call("DELETE", "/v1/ports/opte0/external-ips")).status, 200);
    assert.equal((await h.call("GET", "/v1/ports/opte0/external-ips")).body, null);

    r = await h.call("PUT", "/v1/underlay/routes", {
      prefix: "fd00:99::/64",
      nextHops: [{ link: "ul1", via: "fe80::2" }],
    });
    assert.equal(r.status, 200);
    r = await h.call("GET", "/v1/underlay/routes");
    assert.deepEqual(r.body.map((x: { prefix: string }) => x.prefix), [
      "fd00::/16",
      "fd00:99::/64",
    ]);
    assert.equal((await h.call("DELETE", "/v1/underlay/routes?prefix=fd00:99::/64")).status, 200);
    assert.equal(h.ctl.state.route.size, 1);
  } finally {
    await h.close();
  }
});

Deno.test("V2P / V2B / M2P: set, dump, clear", async () => {
  const h = await startHarness();
  try {
    const m = { vni: 10, ip: "10.0.0.8", mac: "a8:40:25:f0:00:08", underlay: "fd00:3::1" };
    assert.equal((await h.call("PUT", "/v1/v2p", m)).status, 200);
    let r = await h.call("GET", "/v1/v2p");
    assert.deepEqual(r.body.map((x: { ip: string }) => x.ip), ["10.0.0.6", "10.0.0.8"]);
    assert.equal((await h.call("DELETE", "/v1/v2p?vni=10&ip=10.0.0.8")).status, 200);
    assert.equal((await h.call("DELETE", "/v1/v2p?vni=10&ip=10.0.0.8")).status, 404);

    assert.equal(
      (await h.call("PUT", "/v1/v2b", { vni: 10, prefix: "0.0.0.0/0", endpoints: ["fd00:99::1"] }))
        .status,
      200,
    );
    // Upstream's set-v2b adds endpoints; clear-v2b removes the ones named.
    r = await h.call("PUT", "/v1/v2b", {
      vni: 10,
      prefix: "0.0.0.0/0",
      endpoints: ["fd00:99::2", "FD00:99::1"],
    });
    assert.deepEqual(r.body, {
      vni: 10,
      prefix: "0.0.0.0/0",
      endpoints: ["fd00:99::1", "fd00:99::2"],
    });
    r = await h.call("GET", "/v1/v2b");
    assert.deepEqual(r.body, [{
      vni: 10,
      prefix: "0.0.0.0/0",
      endpoints: ["fd00:99::1", "fd00:99::2"],
      source: "api",
    }]);
    const q = `vni=10&prefix=${encodeURIComponent("0.0.0.0/0")}`;
    r = await h.call("DELETE", `/v1/v2b?${q}&endpoint=fd00:99::3`);
    assert.equal(r.status, 404);
    assert.equal(r.body.field, "endpoint");
    r = await h.call("DELETE", `/v1/v2b?${q}&endpoint=fd00:99::1`);
    assert.deepEqual(r.body, { vni: 10, prefix: "0.0.0.0/0", endpoints: ["fd00:99::2"] });
    assert.equal(h.ctl.state.v2b.size, 1);
    r = await h.call("DELETE", `/v1/v2b?${q}&endpoint=fd00:99::2`);
    assert.equal(r.body, null);
    assert.equal(h.ctl.state.v2b.size, 0);
    assert.equal((await h.call("DELETE", `/v1/v2b?${q}`)).status, 404);

    assert.equal(
      (await h.call("PUT", "/v1/m2p", { group: "239.1.1.1", underlay: "ff04::1" })).status,
      200,
    );
    assert.deepEqual((await h.call("GET", "/v1/m2p")).body, [{
      group: "239.1.1.1",
      underlay: "ff04::1",
      source: "api",
    }]);
    assert.equal((await h.call("DELETE", "/v1/m2p?group=239.1.1.1")).status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("bad inputs: 4xx naming the field, nothing changed", async () => {
  const h = await startHarness(null, 4096);
  const cases: [string, string, unknown, number, string | null][] = [
    [
      "POST",
      "/v1/ports",
      { name: "p1", kind: "instance", mac: "a8:40:25:zz:00:01", overlay: { vni: 1 } },
      400,
      "mac",
    ],
    [
      "POST",
      "/v1/ports",
      { name: "p1", kind: "instance", mac: "a8:40:25:00:00:09" },
      400,
      "overlay",
    ],
    ["POST", "/v1/ports", { name: "p1", kind: "gizmo", mac: "a8:40:25:00:00:09" }, 400, "kind"],
    [
      "POST",
      "/v1/ports",
      { name: "p1", kind: "system", mac: "a8:40:25:00:00:09", color: "red" },
      400,
      "color",
    ],
    ["POST", "/v1/ports", { name: "dns0", kind: "system", mac: "a8:40:25:00:00:09" }, 409, "name"],
    ["POST", "/v1/ports", { name: "p2", kind: "system", mac: "a8:40:25:00:00:10" }, 409, "mac"],
    ["POST", "/v1/ports", "{not json", 400, null],
    [
      "POST",
      "/v1/ports",
      { name: "x".repeat(5000), kind: "system", mac: "a8:40:25:00:00:09" },
      413,
      null,
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "up", priority: 1, action: "allow" },
      400,
      "direction",
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "in", priority: 70000, action: "allow" },
      400,
      "priority",
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "in", priority: 1, action: "allow", ports: "99999" },
      400,
      "ports",
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { id: 0, direction: "in", priority: 1, action: "allow" },
      409,
      "id",
    ],
    [
      "POST",
      "/v1/ports/nope/firewall",
      { direction: "in", priority: 1, action: "allow" },
      404,
      "name",
    ],
    ["DELETE", "/v1/ports/opte0/firewall/abc", undefined, 400, "param.id"],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "in", priority: 1, action: "allow", protocol: "tcp", icmp: { type: 8 } },
      400,
      "icmp",
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "in", priority: 1, action: "allow", protocol: "tcp", ports: "22,80-70" },
      400,
      "ports",
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "in", priority: 1, action: "allow", protocol: 47, ports: "22" },
      400,
      "ports",
    ],
    [
      "POST",
      "/v1/ports/opte0/firewall",
      { direction: "in", priority: 1, action: "allow", protocol: 300 },
      400,
      "protocol",
    ],
    [
      "POST",
      "/v1/ports/opte0/routes",
      { destination: "10.0.0.0/33", target: { kind: "drop" }, class: "custom" },
      400,
      "destination",
    ],
    [
      "POST",
      "/v1/ports/opte0/routes",
      { destination: "10.0.0.0/8", target: { kind: "ip" }, class: "custom" },
      400,
      "target.ip",
    ],
    [
      "POST",
      "/v1/ports/opte0/routes",
      { destination: "10.0.0.0/8", target: { kind: "ip", ip: "fd00::1" }, class: "custom" },
      400,
      "target.ip",
    ],
    [
      "POST",
      "/v1/ports/opte0/routes",
      { destination: "10.0.0.0/8", target: { kind: "drop" }, class: "local" },
      400,
      "class",
    ],
    [
      "POST",
      "/v1/ports/opte0/routes",
      {
        destination: "0.0.0.0/0",
        target: { kind: "internet-gateway", id: "a b" },
        class: "custom",
      },
      400,
      "target.id",
    ],
    [
      "DELETE",
      "/v1/ports/opte0/routes",
      { destination: "0.0.0.0/0", target: { kind: "drop" }, class: "custom" },
      404,
      "destination",
    ],
    [
      "PUT",
      "/v1/ports/opte0/external-ips",
      { inetGwMap: { "203.0.113.500": ["igw-1"] } },
      400,
      "inetGwMap.203.0.113.500",
    ],
    ["POST", "/v1/ports/opte0/subnets/attached", { cidr: "10.9.0.1/16" }, 400, "cidr"],
    ["POST", "/v1/ports/opte0/subnets/transit", { cidr: "10.9.0.0/16", dir: "up" }, 400, "dir"],
    ["DELETE", "/v1/ports/opte0/subnets/attached?cidr=10.9.0.0/16", undefined, 404, "cidr"],
    ["DELETE", "/v1/ports/opte0/subnets/transit?cidr=10.9.0.0/16", undefined, 404, "cidr"],
    ["DELETE", "/v1/multicast/subscriptions?group=nope", undefined, 400, "query.group"],
    [
      "PUT",
      "/v1/ports/opte0/external-ips",
      { snat: { ip: "203.0.113.9", ports: [2000, 1000] } },
      400,
      "snat.ports",
    ],
    [
      "PUT",
      "/v1/v2p",
      { vni: 10, ip: "10.0.0.300", mac: "a8:40:25:f0:00:08", underlay: "fd00::1" },
      400,
      "ip",
    ],
    [
      "PUT",
      "/v1/v2p",
      { vni: 1 << 24, ip: "10.0.0.3", mac: "a8:40:25:f0:00:08", underlay: "fd00::1" },
      400,
      "vni",
    ],
    [
      "PUT",
      "/v1/v2p",
      { vni: 10, ip: "10.0.0.3", mac: "a8:40:25:f0:00:08", underlay: "10.0.0.1" },
      400,
      "underlay",
    ],
    ["PUT", "/v1/v2b", { vni: 10, prefix: "0.0.0.0/0", endpoints: [] }, 400, "endpoints"],
    ["DELETE", "/v1/v2p?vni=10", undefined, 400, "query.ip"],
    [
      "PUT",
      "/v1/underlay/routes",
      { prefix: "10.0.0.0/8", nextHops: [{ link: "ul0", via: "fe80::1" }] },
      400,
      "prefix",
    ],
    ["GET", "/v1/nothing", undefined, 404, null],
  ];
  try {
    const before = canonical(
      Object.fromEntries(Object.entries(h.ctl.state).map(([k, m]) => [k, [...m]])),
    );
    const applied = [...h.dp.applied.values()].reduce((a, b) => a + b, 0);
    for (const [method, path, body, status, field] of cases) {
      const r = await h.call(method, path, body);
      assert.equal(
        r.status,
        status,
        `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`,
      );
      assert.equal(typeof r.body.error, "string", `${path}: error text`);
      assert.ok(!/\bat .*\.ts:\d+/.test(JSON.stringify(r.body)), "no stack trace");
      if (field !== null) {
        assert.match(
          r.body.field,
          new RegExp(`(^|\\.)${field.replace(".", "\\.")}$`),
          `${path}: ${JSON.stringify(r.body)}`,
        );
      }
    }
    const after = canonical(
      Object.fromEntries(Object.entries(h.ctl.state).map(([k, m]) => [k, [...m]])),
    );
    assert.equal(after, before);
    assert.equal([...h.dp.applied.values()].reduce((a, b) => a + b, 0), applied);
    assert.equal(h.ctl.generation, 0);
    assert.equal(h.ctl.overrides.size, 0);
  } finally {
    await h.close();
  }
});

Deno.test("auth: bearer token required (401) except /healthz; right token accepted", async () => {
  const token = "s3cret-token-0123456789";
  const h = await startHarness(token);
  try {
    const plain = (path: string, headers: Record<string, string> = {}) =>
      fetch(h.url + path, { headers });
    let res = await plain("/v1/ports");
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /Bearer/);
    await res.body?.cancel();
    res = await plain("/v1/ports", { authorization: `Bearer ${token}x` });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    res = await plain("/metrics", { authorization: "Basic abc" });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    res = await plain("/healthz");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).ok, true);
    assert.equal((await h.call("GET", "/v1/ports")).status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("openapi document lists every resource path; /metrics is Prometheus text", async () => {
  const h = await startHarness();
  try {
    const doc = (await h.call("GET", "/v1/openapi.json")).body;
    assert.equal(doc.openapi, "3.1.0");
    for (
      const p of [
        "/v1/ports",
        "/v1/ports/{name}",
        "/v1/ports/{name}/firewall",
        "/v1/ports/{name}/firewall/{id}",
        "/v1/ports/{name}/routes",
        "/v1/ports/{name}/external-ips",
        "/v1/v2p",
        "/v1/v2b",
        "/v1/m2p",
        "/v1/underlay/routes",
        "/v1/ports/{name}/flows/{table}",
        "/v1/ports/{name}/capture",
        "/v1/links/{name}/capture",
        "/v1/trace",
        "/v1/ports/{name}/multicast",
        "/v1/multicast/forwarding",
        "/v1/ports/{name}/layers",
        "/v1/ports/{name}/layers/{layer}",
        "/v1/underlay/links",
        "/v1/underlay/neighbours",
      ]
    ) assert.ok(doc.paths[p], `openapi has ${p}`);
    assert.ok(doc.paths["/v1/ports"].post.requestBody);

    await h.call("PUT", "/v1/m2p", { group: "239.1.1.1", underlay: "ff04::1" });
    const res = await fetch(h.url + "/metrics");
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^# TYPE xdeno_resources gauge$/m);
    assert.match(text, /^xdeno_resources\{kind="port"\} 2$/m);
    assert.match(text, /^xdeno_resources\{kind="m2p"\} 1$/m);
    assert.match(text, /^xdeno_control_generation 1$/m);
    assert.match(text, /^xdeno_port_rx_frames_total\{port="opte0"\} 0$/m);
    for (const line of text.trim().split("\n")) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)*\})? -?\d+(\.\d+)?)$/, line);
    }
  } finally {
    await h.close();
  }
});

Deno.test("pause/start a port; flows are 501 on a datapath without flow tables", async () => {
  const h = await startHarness();
  try {
    let r = await h.call("POST", "/v1/ports/opte0/pause");
    assert.deepEqual(r.body, { name: "opte0", state: "paused" });
    assert.equal(h.dp.ports.get("opte0")!.state, "paused");
    r = await h.call("POST", "/v1/ports/opte0/start");
    assert.equal(r.body.state, "running");
    r = await h.call("GET", "/v1/ports/opte0/flows/uft");
    assert.equal(r.status, 501);
    r = await h.call("GET", "/v1/ports/opte0/flows/bogus");
    assert.equal(r.status, 400);
  } finally {
    await h.close();
  }
});
