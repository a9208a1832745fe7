import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";

const base = `
platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
`;

Deno.test("fleet config: defaults filled, absent means no fleet", () => {
  const off = parseConfigText(base);
  assert.ok(off.ok && off.config.fleet === undefined);
  const on = parseConfigText(
    base + `fleet: { etcd: { endpoints: ["http://10.0.0.1:2379"] }, sledId: sled7 }\n`,
  );
  assert.ok(on.ok);
  assert.deepEqual(on.config.fleet, {
    etcd: { endpoints: ["http://10.0.0.1:2379"], prefix: "/xdeno", dialTimeoutMs: 3000 },
    sledId: "sled7",
    leaseTtlSeconds: 10,
  });
});

Deno.test("fleet config: mistakes name the field and say what is expected", () => {
  const r = parseConfigText(
    base + `
fleet:
  etcd: { endpoints: ["10.0.0.1:2379"], prefix: "/xdeno/", tls: { ca: ca.pem, cert: c.pem } }
  sledId: "sled 7"
`,
  );
  assert.ok(!r.ok);
  const got = r.problems.map((p) => `${p.path}: ${p.message}`).sort();
  assert.deepEqual(got.map((g) => g.slice(0, g.indexOf(":"))), [
    "fleet.etcd.endpoints[0]",
    "fleet.etcd.prefix",
    "fleet.etcd.tls.key",
    "fleet.sledId",
  ]);
  assert.match(got[0], /is not an etcd client URL/);
  assert.match(got[2], /cert and key go together/);
});
