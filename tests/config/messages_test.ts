// Config mistakes an operator makes first get one message each, saying what would be right.

import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";

const config = (rule: string) =>
  `platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
underlay: { links: [{ name: ul0 }] }
ports:
  - name: opte0
    kind: instance
    mac: "a8:40:25:f0:00:01"
    overlay: { vni: 10, ipv4: 10.0.0.5/24 }
    firewall: [${rule}]
`;

function problems(rule: string): string[] {
  const r = parseConfigText(config(rule));
  assert.ok(!r.ok, "accepted");
  return r.problems.map((p) => p.message);
}

Deno.test("a malformed port range is one problem, not also 'port above 65535'", () => {
  const p = problems(`{ direction: in, priority: 1, action: allow, ports: "22-abc" }`);
  assert.equal(p.length, 1, p.join("\n"));
  assert.match(p[0], /is not a list of ports and ranges \(e\.g\. "22" or "22,80,8000-8080"\)/);
  const high = problems(`{ direction: in, priority: 1, action: allow, ports: "22-70000" }`);
  assert.deepEqual(high, ["port above 65535"]);
});

Deno.test("a bad host prefix says what a host may be, not 'expected \"any\"'", () => {
  const p = problems(`{ direction: in, priority: 1, action: allow, host: "10.0.0.0/40" }`);
  assert.equal(p.length, 1, p.join("\n"));
  assert.match(p[0], /^"10\.0\.0\.0\/40" is not a host \(expected "any", a prefix/);
  assert.ok(!p[0].includes('expected "any"\n'));
  for (const ok of ["any", "vni:7", "10.0.0.0/24", "fd00::/64"]) {
    const r = parseConfigText(
      config(`{ direction: in, priority: 1, action: allow, host: "${ok}" }`),
    );
    assert.ok(r.ok, `${ok}: ${JSON.stringify(!r.ok && r.problems)}`);
  }
});

Deno.test("datapath.busyPollUs: a default, and each bad value named with what would be right", () => {
  const sled = `platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
`;
  const parse = (datapath: string) => parseConfigText(sled + datapath);
  const ok = parse("");
  assert.ok(ok.ok);
  assert.equal(ok.config.datapath.busyPollUs, 2000);
  const off = parse("datapath: { busyPollUs: 0 }");
  assert.ok(off.ok);
  assert.equal(off.config.datapath.busyPollUs, 0);
  const bad: [string, RegExp][] = [
    ["-1", /0 \(off\) or more microseconds/],
    ["1.5", /whole number of microseconds/],
    ["50000", /above 10000 µs/],
    ['"fast"', /must be a number of microseconds/],
  ];
  for (const [value, message] of bad) {
    const r = parse(`datapath: { busyPollUs: ${value} }`);
    assert.ok(!r.ok, `${value} accepted`);
    assert.equal(r.problems.length, 1, value);
    assert.equal(r.problems[0].path, "datapath.busyPollUs");
    assert.match(r.problems[0].message, message);
  }
});
