// The opteadm-named verbs: names, flags (-p PORT, --dir, -e) and meaning as opteadm's, tables by
// default and the API's JSON with --json.

import assert from "node:assert/strict";
import { startHarness } from "./helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function xdeno(url: string, ...args: string[]) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--url", url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

Deno.test("opteadm verbs: router entries with opteadm's target text and class", async () => {
  const h = await startHarness();
  try {
    const id = "00000000-0000-0000-0000-000000000002";
    let r = await xdeno(
      h.url,
      "add-router-entry",
      "-p",
      "opte0",
      "1.1.1.0/24",
      `ig=${id}`,
      "custom",
    );
    assert.equal(r.code, 0, r.err);
    r = await xdeno(
      h.url,
      "add-router-entry",
      "-p",
      "opte0",
      "10.1.0.0/16",
      "ip4=10.0.0.6",
      "custom",
    );
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "list-router-entries", "-p", "opte0");
    assert.equal(
      r.out,
      [
        "DESTINATION  TARGET                                   CLASS   SOURCE",
        "10.0.0.0/24  sub4=10.0.0.0/24                         system  api",
        "0.0.0.0/0    ig                                       system  api",
        `1.1.1.0/24   ig=${id}  custom  api`,
        "10.1.0.0/16  ip4=10.0.0.6                             custom  api",
        "",
      ].join("\n"),
    );
    r = await xdeno(h.url, "list-router-entries", "-p", "opte0", "--json");
    assert.deepEqual(JSON.parse(r.out)[2], {
      destination: "1.1.1.0/24",
      target: { kind: "internet-gateway", id },
      class: "custom",
      source: "api",
    });
    // Deletion by the exact triple: a wrong class is not found (exit 1), the right one goes.
    r = await xdeno(
      h.url,
      "del-router-entry",
      "-p",
      "opte0",
      "10.1.0.0/16",
      "ip4=10.0.0.6",
      "system",
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /^xdeno del-router-entry: 404: destination: no entry 10\.1\.0\.0\/16/);
    r = await xdeno(
      h.url,
      "del-router-entry",
      "-p",
      "opte0",
      "10.1.0.0/16",
      "ip4=10.0.0.6",
      "custom",
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(h.ctl.state.router.get("opte0")!.length, 3);
    // Usage errors: exit 2, nothing sent.
    r = await xdeno(
      h.url,
      "add-router-entry",
      "-p",
      "opte0",
      "10.1.0.0/16",
      "via=10.0.0.6",
      "custom",
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /target: "via=10\.0\.0\.6" is not a router target/);
    r = await xdeno(h.url, "add-router-entry", "-p", "opte0", "10.1.0.0/16", "drop", "local");
    assert.equal(r.code, 2);
    assert.match(r.err, /class: "local" is not a router class/);
    r = await xdeno(h.url, "add-router-entry", "10.1.0.0/16", "drop", "custom");
    assert.equal(r.code, 2);
    // Without -p the port is missing: one positional short, and the usage names -p PORT.
    assert.match(r.err, /needs 4 arguments, got 3\n.*-p PORT DEST TARGET CLASS/);
    assert.equal(h.ctl.state.router.get("opte0")!.length, 3);
  } finally {
    await h.close();
  }
});

Deno.test("opteadm verbs: attach-subnet, detach-subnet, allow-cidr, remove-cidr", async () => {
  const h = await startHarness();
  try {
    let r = await xdeno(h.url, "attach-subnet", "-p", "opte0", "8.0.0.0/8", "-e");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "attach-subnet", "-p", "opte0", "10.9.0.0/16");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "allow-cidr", "-p", "opte0", "192.0.2.0/24", "--dir", "in");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "allow-cidr", "-p", "opte0", "198.51.100.0/24");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(h.ctl.state.subnets.get("opte0"), {
      attached: [{ cidr: "8.0.0.0/8", external: true }, { cidr: "10.9.0.0/16", external: false }],
      transit: [
        { cidr: "192.0.2.0/24", allowIn: true, allowOut: false },
        { cidr: "198.51.100.0/24", allowIn: true, allowOut: true },
      ],
    });
    // remove-cidr per direction, then the rest; detach-subnet.
    r = await xdeno(h.url, "remove-cidr", "-p", "opte0", "198.51.100.0/24", "--dir", "out");
    assert.equal(r.code, 0, r.err);
    // 192.0.2.0/24 is allowed inbound only: removing it outbound is not found, nothing changes.
    r = await xdeno(h.url, "remove-cidr", "-p", "opte0", "192.0.2.0/24", "--dir", "out");
    assert.equal(r.code, 1);
    assert.match(r.err, /404: cidr: 192\.0\.2\.0\/24 is not a transit IP of opte0 \(out\)/);
    r = await xdeno(h.url, "remove-cidr", "-p", "opte0", "192.0.2.0/24", "--dir", "in", "--json");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).transit, [
      { cidr: "198.51.100.0/24", allowIn: true, allowOut: false },
    ]);
    r = await xdeno(h.url, "detach-subnet", "-p", "opte0", "8.0.0.0/8");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, "detach-subnet", "-p", "opte0", "8.0.0.0/8");
    assert.equal(r.code, 1);
    assert.match(r.err, /404: cidr: 8\.0\.0\.0\/8 is not attached to opte0/);
    assert.deepEqual(h.ctl.state.subnets.get("opte0")!.attached, [
      { cidr: "10.9.0.0/16", external: false },
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("opteadm verbs: dump-mcast-subs, mcast-unsubscribe-all, clear-m2p, clear-mcast-fwd", async () => {
  const h = await startHarness();
  try {
    for (const p of ["dns0", "opte0"]) {
      assert.equal((await xdeno(h.url, "mcast-subscribe", p, "239.1.1.1")).code, 0);
    }
    assert.equal((await xdeno(h.url, "mcast-subscribe", "dns0", "239.1.1.2")).code, 0);
    let r = await xdeno(h.url, "dump-mcast-subs");
    assert.equal(r.out, "GROUP      PORTS\n239.1.1.1  dns0,opte0\n239.1.1.2  dns0\n");
    r = await xdeno(h.url, "mcast-unsubscribe-all", "239.1.1.1", "--json");
    assert.deepEqual(JSON.parse(r.out), { group: "239.1.1.1", ports: ["dns0", "opte0"] });
    assert.deepEqual(h.ctl.state.subscription.get("dns0"), ["239.1.1.2"]);
    assert.equal(h.ctl.state.subscription.has("opte0"), false);
    // A group nobody subscribes to: a no-op, as upstream.
    r = await xdeno(h.url, "mcast-unsubscribe-all", "239.1.1.1");
    assert.equal(r.code, 0, r.err);

    assert.equal((await xdeno(h.url, "set-m2p", "239.1.1.2", "ff04::e001:102")).code, 0);
    r = await xdeno(h.url, "clear-m2p", "239.1.1.2", "ff04::e001:999");
    assert.equal(r.code, 1);
    assert.match(r.err, /underlay: 239\.1\.1\.2 maps to ff04::e001:102/);
    r = await xdeno(h.url, "clear-m2p", "239.1.1.2", "ff04::e001:102");
    assert.equal(r.code, 0, r.err);
    assert.equal(h.ctl.state.m2p.size, 0);

    assert.equal((await xdeno(h.url, "set-mcast-fwd", "ff04::1", "fd00:2::1=underlay")).code, 0);
    r = await xdeno(h.url, "clear-mcast-fwd", "ff04::1");
    assert.equal(r.code, 0, r.err);
    assert.equal(h.ctl.state.mcastFwd.size, 0);
    r = await xdeno(h.url, "clear-mcast-fwd", "ff04::1");
    assert.equal(r.code, 1);
  } finally {
    await h.close();
  }
});

Deno.test("add-fw-rule: --protocol takes a number or icmp:TYPE,LO-HI; --ports a list", async () => {
  const h = await startHarness();
  try {
    const base = ["add-fw-rule", "opte0", "--direction", "in", "--action", "allow"];
    let r = await xdeno(h.url, ...base, "--priority", "5", "--protocol", "icmp:3,0-4");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, ...base, "--priority", "6", "--protocol", "47");
    assert.equal(r.code, 0, r.err);
    r = await xdeno(h.url, ...base, "--priority", "7", "--protocol", "tcp", "--ports", "22,80-90");
    assert.equal(r.code, 0, r.err);
    const rules = h.ctl.state.firewall.get("opte0")!;
    assert.deepEqual(rules.slice(1).map((x) => [x.protocol, x.icmp, x.ports]), [
      ["icmp", { type: 3, codes: [0, 4] }, undefined],
      [47, undefined, undefined],
      ["tcp", undefined, "22,80-90"],
    ]);
    r = await xdeno(h.url, "list-fw-rules", "opte0");
    assert.match(r.out, /\n1 +in +5 +allow +icmp:3,0-4 +any +any +api\n/);
  } finally {
    await h.close();
  }
});
