import assert from "node:assert/strict";
import { emptyState } from "../../lib/config/resources.ts";
import { decodeEntry, publications } from "../../lib/fleet/keys.ts";

Deno.test("fleet keys: a V2B entry written by the control plane decodes to the API's change", () => {
  const d = decodeEntry(
    "/xdeno",
    "/xdeno/v2b/99/0.0.0.0/0",
    '{"vni":99,"prefix":"0.0.0.0/0","endpoints":["fd00:99::1"]}',
  );
  assert.deepEqual(d, {
    ok: true,
    change: {
      kind: "v2b",
      key: "99/0.0.0.0/0",
      value: { vni: 99, prefix: "0.0.0.0/0", endpoints: ["fd00:99::1"] },
    },
    sled: undefined,
  });
  assert.deepEqual(decodeEntry("/xdeno", "/xdeno/mcast/ff04::1", null), {
    ok: true,
    change: { kind: "mcastFwd", key: "ff04::1", value: null },
  });
});

Deno.test("fleet keys: bad values name the field; keys must match values; others pass", () => {
  const bad = decodeEntry("/x", "/x/v2p/10/10.0.0.1", '{"vni":10,"ip":"10.0.0.1","mac":"zz"}');
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /^\/x\/v2p\/10\/10\.0\.0\.1: mac: /);
  const moved = decodeEntry(
    "/x",
    "/x/v2p/10/10.0.0.1",
    '{"vni":10,"ip":"10.0.0.2","mac":"a8:40:25:00:00:01","underlay":"fd00::1","sled":"a"}',
  );
  assert.match((moved as { error: string }).error, /key does not match its value/);
  assert.equal(decodeEntry("/x", "/x/v2p/1/1.1.1.1", "{").ok, false);
  assert.deepEqual(decodeEntry("/x", "/x/sleds/a", "{}"), { ok: "other" });
  assert.deepEqual(decodeEntry("/x", "/y/v2p/1/1.1.1.1", "{}"), { ok: "other" });
});

Deno.test("fleet keys: a sled publishes its overlay ports' V2P, subscriptions and presence", () => {
  const s = emptyState();
  s.port.set("vm", {
    name: "vm",
    kind: "instance",
    mac: "a8:40:25:fa:00:01",
    addresses: [],
    mtu: 1500,
    overlay: { vni: 10, ipv4: "172.30.0.5/22", ipv6: "fd77::5/64" },
  });
  s.port.set("z", {
    name: "z",
    kind: "system",
    mac: "a8:40:25:00:00:02",
    addresses: [],
    mtu: 1500,
  });
  s.subscription.set("vm", ["239.1.1.1"]);
  const p = publications("/x", "s1", "fd00:1::1", s);
  assert.deepEqual([...p.keys()].sort(), [
    "/x/sleds/s1",
    "/x/sub/s1/vm",
    "/x/v2p/10/172.30.0.5",
    "/x/v2p/10/fd77::5",
  ]);
  const v = p.get("/x/v2p/10/172.30.0.5")!;
  assert.equal(v.exclusive, true);
  assert.deepEqual(JSON.parse(v.value), {
    vni: 10,
    ip: "172.30.0.5",
    mac: "a8:40:25:fa:00:01",
    underlay: "fd00:1::1",
    sled: "s1",
  });
  // What it publishes decodes back through the same validation.
  assert.equal(decodeEntry("/x", v.key, v.value).ok, true);
});
