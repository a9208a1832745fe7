// SIGKILL of `xdeno run --platform linux` and restart (root): whatever the killed process left
// (TAPs, addresses, routes) must not stop the next start, and traffic flows again.

import assert from "node:assert/strict";
import { addNetns, delNetns, isRoot, linkNames, sh, uniq } from "../link/netns.ts";
import { spawnService, tempFile } from "../service/helpers.ts";
import { pingOk } from "../runtime/bed.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();

interface RestartBed {
  u: string;
  gz: string;
  za: string;
  zb: string;
  cfg: string;
  dir: string;
}

async function makeBed(): Promise<RestartBed> {
  const u = uniq();
  const b = { u, gz: `${u}-gz`, za: `${u}-za`, zb: `${u}-zb`, cfg: "", dir: "" };
  for (const n of [b.gz, b.za, b.zb]) {
    addNetns(n);
    sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
    sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
  }
  sh(["ip", "-n", b.gz, "link", "add", "ul0", "type", "veth", "peer", "ul0p"]);
  sh(["ip", "netns", "exec", b.gz, "sysctl", "-qw", "net.ipv6.conf.ul0.disable_ipv6=1"]);
  sh(["ip", "-n", b.gz, "link", "set", "ul0", "up"]);
  sh(["ip", "-n", b.gz, "link", "set", "ul0p", "up"]);
  b.cfg = await tempFile(`
platform: linux
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16", hostInterface: ${u}x }
underlay:
  links: [{ name: ul0, linkLocal: "fe80::1:1" }]
  routes: []
ports:
  - { name: ${u}x, kind: host, mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] }
  - { name: ${u}a, kind: system, zone: ${b.za}, mac: "a8:40:25:00:00:10", addresses: ["fd00:1::10/64"] }
  - { name: ${u}b, kind: system, zone: ${b.zb}, mac: "a8:40:25:00:00:11", addresses: ["fd00:1::11/64"] }
`);
  b.dir = await Deno.makeTempDir();
  return b;
}

function dropBed(b: RestartBed): void {
  for (const n of [b.gz, b.za, b.zb]) delNetns(n);
  for (const p of [b.cfg, b.dir]) if (p) Deno.removeSync(p, { recursive: true });
}

function start(b: RestartBed) {
  return spawnService(b.cfg, b.dir, ["--platform", "linux"], [
    ..."ip netns exec".split(" "),
    b.gz,
    DENO,
    "run",
    "-A",
    MAIN,
  ]);
}

/** What a namespace holds of ours: links named with the prefix, and fd00:1:: addresses. */
function leftovers(b: RestartBed): string[] {
  const out: string[] = [];
  for (const n of [b.gz, b.za, b.zb]) {
    for (const l of linkNames(n)) if (l.startsWith(b.u)) out.push(`${n}: link ${l}`);
    const addrs = sh(["ip", "-n", n, "-6", "addr", "show"]);
    for (const m of addrs.matchAll(/inet6 (fd00:1::\S+)/g)) out.push(`${n}: addr ${m[1]}`);
    const routes = sh(["ip", "-n", n, "-6", "route", "show"]);
    if (routes.includes("fd00::/16")) out.push(`${n}: route fd00::/16`);
  }
  return out;
}

async function trafficFlows(b: RestartBed): Promise<void> {
  assert.ok(await pingOk(b.za, "fd00:1::11"), "zone-a → zone-b");
  assert.ok(await pingOk(b.zb, "fd00:1::1"), "zone-b → GZ over the host port");
}

async function kill(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  const st = await child.status;
  assert.equal(st.signal, "SIGKILL");
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "restart: SIGKILL of xdeno run, then a restart on the same config carries traffic",
  ignore: !isRoot("restart after SIGKILL"),
  ...opts,
  async fn() {
    const b = await makeBed();
    let child: Deno.ChildProcess | null = null;
    try {
      let s = await start(b);
      child = s.child;
      await trafficFlows(b);
      await kill(child);
      child = null;
      // Non-persistent TAPs go with the killed process's fds, and their addresses and routes
      // with them; anything still here must not stop the restart below.
      const left = leftovers(b);
      s = await start(b);
      child = s.child;
      await trafficFlows(b);
      assert.ok(
        !s.logs.some((l) => /exist/i.test(JSON.stringify(l))),
        `"exists" in the restart's log: ${JSON.stringify(s.logs)}`,
      );
      // A second kill/restart cycle in quick succession.
      await kill(child);
      child = null;
      s = await start(b);
      child = s.child;
      await trafficFlows(b);
      assert.deepEqual(left, [], "the killed process left devices/addresses behind");
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      child = null;
      assert.deepEqual(leftovers(b), [], "SIGTERM cleans up everything");
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      dropBed(b);
    }
  },
});

Deno.test({
  name: "restart: a persistent TAP with a port's name left in the zone is reused or replaced",
  // TapLink deletes a device with the port's name in the zone before moving the new one in.
  ignore: !isRoot("restart over a stale TAP"),
  ...opts,
  async fn() {
    const b = await makeBed();
    let child: Deno.ChildProcess | null = null;
    try {
      // A device with the zone port's name, as a crashed run that made it persistent would
      // leave, with a stale address on it.
      sh(["ip", "-n", b.za, "tuntap", "add", "mode", "tap", "name", `${b.u}a`]);
      sh(["ip", "-n", b.za, "addr", "add", "fd00:1::10/64", "dev", `${b.u}a`, "nodad"]);
      const s = await start(b);
      child = s.child;
      await trafficFlows(b);
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      dropBed(b);
    }
  },
});
