import assert from "node:assert/strict";
import * as fc from "fast-check";
import { parseConfigText } from "../../lib/config/load.ts";
import {
  applyChanges,
  canonical,
  cloneState,
  diffStates,
  emptyState,
  KINDS,
  stateFromConfig,
} from "../../lib/config/resources.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const EXAMPLE = new URL("../../dist/xdeno.example.yaml", import.meta.url).pathname;

async function checkConfig(file: string) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "check-config", file],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

/** 1-based number of the first line of `text` containing `needle` (what an editor shows). */
function lineOf(text: string, needle: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, needle);
  return i + 1;
}

Deno.test("the shipped example config passes check-config", async () => {
  const r = await checkConfig(EXAMPLE);
  assert.equal(r.err, "");
  assert.equal(r.code, 0);
  assert.equal(r.out, `${EXAMPLE}: ok (3 ports, platform linux)\n`);
  const parsed = parseConfigText(await Deno.readTextFile(EXAMPLE));
  assert.ok(parsed.ok);
  const s = stateFromConfig(parsed.config);
  assert.deepEqual([...s.port.keys()], ["xde0", "dns0", "opte0"]);
  assert.deepEqual(s.firewall.get("opte0")!.map((r) => r.id), [0, 1, 2]);
  assert.equal(s.v2b.size, 1);
});

Deno.test("check-config prints every problem as FILE:LINE: path (port named): reason and exits 2", async () => {
  const text = (await Deno.readTextFile(EXAMPLE))
    .replace("mac: a8:40:25:f0:00:01", 'mac: "a8:40:25:zz:00:01"')
    .replace("underlayAddress: fd00:1122:3344:101::1", "underlayAddress: 10.0.0.1")
    .replace('{ link: ul1, via: "fe80::2" }', '{ link: ul9, via: "fe80::2" }')
    .replace("priority: 100, action: allow", "priority: 100, action: permit")
    .replace("listen: 127.0.0.1:7070", "listen: 127.0.0.1:70700")
    .replace("mtu: 1500", "mtu: 1500\n    colour: blue");
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, text);
  const r = await checkConfig(file);
  assert.equal(r.code, 2);
  assert.equal(r.out, "");
  const at = (needle: string) => `${file}:${lineOf(text, needle)}`;
  assert.deepEqual(
    r.err.trim().split("\n").sort(),
    [
      `${
        at("127.0.0.1:70700")
      }: admin.listen: "127.0.0.1:70700" is not a listen address (expected ADDR:PORT, e.g. 127.0.0.1:7070 or [::1]:7070)`,
      `${at("colour: blue")}: ports[2] (opte0).colour: unknown field (check the spelling)`,
      `${
        at("action: permit")
      }: ports[2] (opte0).firewall[0].action: expected one of "allow"|"deny"`,
      `${
        at("a8:40:25:zz:00:01")
      }: ports[2] (opte0).mac: "a8:40:25:zz:00:01" is not a MAC address (expected six hex pairs)`,
      `${
        at("underlayAddress: 10.0.0.1")
      }: sled.underlayAddress: "10.0.0.1" is not an IPv6 address (e.g. fd00::1)`,
    ].sort(),
  );
  // Cross-field checks run once the fields themselves are valid.
  const file2 = await Deno.makeTempFile({ suffix: ".yaml" });
  const text2 = (await Deno.readTextFile(EXAMPLE)).replace(
    '{ link: ul1, via: "fe80::2" }',
    '{ link: ul9, via: "fe80::2" }',
  )
    .replace("mac: a8:40:25:00:00:10", "mac: A8:40:25:00:00:01");
  await Deno.writeTextFile(file2, text2);
  const r2 = await checkConfig(file2);
  assert.equal(r2.code, 2);
  assert.deepEqual(r2.err.trim().split("\n"), [
    `${file2}:${
      lineOf(text2, "A8:40:25:00:00:01")
    }: ports[1] (dns0).mac: duplicate MAC "a8:40:25:00:00:01" (first at ports[0] (xde0).mac (line ${
      lineOf(text2, "mac: a8:40:25:00:00:01")
    }))`,
    `${file2}:${
      lineOf(text2, "ul9")
    }: underlay.routes[0].nextHops[1].link: "ul9" is not an underlay link (declared: ul0, ul1)`,
  ]);
});

Deno.test("check-config: YAML syntax errors have a line, unreadable files a reason", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, "sled:\n  underlayAddress: [fd00::1\nports: {\n");
  let r = await checkConfig(file);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`^${file}: line \\d+ column \\d+: YAML syntax: `));
  r = await checkConfig("/nonexistent/x.yaml");
  assert.equal(r.code, 2);
  assert.match(r.err, /^\/nonexistent\/x\.yaml: \(file\): cannot read: /);
});

Deno.test("semantic rules: instance needs overlay, host has no zone, one host port", () => {
  const base = 'sled: { underlayAddress: "fd00::1", underlayPrefix: "fd00::/16" }\n';
  const r = parseConfigText(
    base + `ports:
  - { name: a, kind: instance, mac: "a8:40:25:00:00:01" }
  - { name: b, kind: host, zone: z, mac: "a8:40:25:00:00:02" }
  - { name: c, kind: host, mac: "a8:40:25:00:00:03" }
  - { name: d, kind: system, mac: "a8:40:25:00:00:04", addresses: ["fd00::4/129"] }
`,
  );
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`), [
    "3: ports[0] (a).overlay: an instance port needs an overlay identity",
    "4: ports[1] (b).zone: the host port lives in the global zone",
    '6: ports[3] (d).addresses[0]: "fd00::4/129" is not an address with prefix length (expected e.g. 10.0.0.5/24)',
    "3: ports: at most one host port",
  ]);
});

const arbState = fc.record({
  v2p: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 8 }),
  ports: fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 5 }),
  mtu: fc.constantFrom(1500, 9000),
}).map(({ v2p, ports, mtu }) => {
  const s = emptyState();
  for (const i of v2p) {
    s.v2p.set(`10/10.0.0.${i}`, {
      vni: 10,
      ip: `10.0.0.${i}`,
      mac: "a8:40:25:00:00:01",
      underlay: `fd00::${i % 3}`,
    });
  }
  for (const i of ports) {
    s.port.set(`p${i}`, {
      name: `p${i}`,
      kind: "system",
      mac: `a8:40:25:00:01:0${i}`,
      addresses: [],
      mtu,
    });
    if (i % 2) {
      s.firewall.set(`p${i}`, [{
        id: 0,
        direction: "in",
        priority: i,
        action: "allow",
        protocol: "any",
        host: "any",
      }]);
    }
  }
  return s;
});

const dump = (s: ReturnType<typeof emptyState>) =>
  canonical(Object.fromEntries(KINDS.map((k) => [k, [...s[k]].sort()])));

Deno.test("property: applying diff(a, b) to a gives b; removals of tables precede their ports", () => {
  fc.assert(fc.property(arbState, arbState, (a, b) => {
    const changes = diffStates(a, b);
    const s = cloneState(a);
    applyChanges(s, changes);
    assert.equal(dump(s), dump(b));
    assert.deepEqual(diffStates(b, b), []);
    for (const [i, c] of changes.entries()) {
      if (c.kind === "port" && c.value === null) {
        assert.ok(
          !changes.slice(i + 1).some((d) =>
            d.kind === "firewall" && d.key === c.key && d.value === null
          ),
        );
      }
      if (c.kind === "firewall" && c.value !== null) {
        assert.ok(
          !changes.slice(i + 1).some((d) =>
            d.kind === "port" && d.key === c.key && d.value !== null
          ),
        );
      }
    }
  }));
});

const CLASH = `platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
ports:
  - name: web
    kind: instance
    mac: "a8:40:25:f0:00:01"
    overlay: { vni: 10, ipv4: 10.0.0.5/24, ipv6: "fd77::5/64" }
    externalIps: { snat: { ip: 203.0.113.9, ports: [1024, 2047] }, floating: [203.0.113.10] }
  - name: db
    kind: instance
    mac: "a8:40:25:f0:00:02"
    overlay: { vni: 11, ipv4: 10.0.0.5/24 }
  - name: cache
    kind: instance
    mac: "a8:40:25:f0:00:03"
    overlay: { vni: 10, ipv4: 10.0.0.5/24, ipv6: "fd77:0::5/64" }
    externalIps: { ephemeral: [203.0.113.9], floating: [203.0.113.10] }
`;

Deno.test("check-config refuses one (VNI, overlay address) or external IP on two ports, naming both", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, CLASH);
  const r = await checkConfig(file);
  assert.equal(r.code, 2);
  assert.equal(r.out, "");
  const tail = ": each must belong to one port";
  // The same address in another VNI (db) is no clash; fd77:0::5 is fd77::5.
  assert.deepEqual(r.err.trim().split("\n"), [
    `${file}:16: ports[2] (cache).overlay.ipv4: VNI 10 address 10.0.0.5 is already used by ports[0] (web).overlay.ipv4 (line 7)${tail}`,
    `${file}:16: ports[2] (cache).overlay.ipv6: VNI 10 address fd77::5 is already used by ports[0] (web).overlay.ipv6 (line 7)${tail}`,
    `${file}:17: ports[2] (cache).externalIps.ephemeral[0]: external IP 203.0.113.9 is already used by ports[0] (web).externalIps.snat.ip (line 8)${tail}`,
    `${file}:17: ports[2] (cache).externalIps.floating[0]: external IP 203.0.113.10 is already used by ports[0] (web).externalIps.floating[0] (line 8)${tail}`,
  ]);
  const ok = CLASH.replace('ipv4: 10.0.0.5/24, ipv6: "fd77:0::5/64"', "ipv4: 10.0.0.7/24")
    .replace("ephemeral: [203.0.113.9], floating: [203.0.113.10]", "ephemeral: [203.0.113.11]");
  assert.ok(parseConfigText(ok).ok);
});
