// Root: `xdeno run --platform linux` as a real process inside a throwaway "GZ" namespace with a
// host port and one system zone; the zone pings the GZ through the switch, the CLI lists the
// port, SIGTERM removes the TAPs.

import assert from "node:assert/strict";
import { addNetns, delNetns, isRoot, linkNames, sh, uniq } from "../link/netns.ts";
import { spawnService, tempFile } from "./helpers.ts";
import { lacks } from "../tools.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();

async function pingOk(ns: string, dst: string, tries = 5): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const r = await new Deno.Command("ip", {
      args: ["netns", "exec", ns, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", dst],
      stdout: "null",
      stderr: "null",
    }).output();
    if (r.success) return true;
  }
  return false;
}

Deno.test({
  name: "xdeno run --platform linux: zone pings the GZ over xde0, list-ports, SIGTERM cleans up",
  ignore: !isRoot("xdeno run --platform linux") || lacks("xdeno run --platform linux", "tshark"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const u = uniq();
    const gz = `${u}-gz`, zone = `${u}-z`;
    let child: Deno.ChildProcess | null = null;
    try {
      for (const n of [gz, zone]) {
        addNetns(n);
        sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
        sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
      }
      // An underlay link the switch may own (no peer traffic is needed for zone↔GZ).
      sh(["ip", "-n", gz, "link", "add", "ul0", "type", "veth", "peer", "ul0p"]);
      sh(["ip", "netns", "exec", gz, "sysctl", "-qw", "net.ipv6.conf.ul0.disable_ipv6=1"]);
      sh(["ip", "-n", gz, "link", "set", "ul0", "up"]);
      sh(["ip", "-n", gz, "link", "set", "ul0p", "up"]);
      const cfg = await tempFile(`
platform: linux
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16", hostInterface: xde0 }
underlay:
  links: [{ name: ul0, linkLocal: "fe80::1:1" }]
  routes: []
ports:
  - { name: xde0, kind: host, mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] }
  - { name: dns0, kind: system, zone: ${zone}, mac: "a8:40:25:00:00:10", addresses: ["fd00:1::10/64"] }
`);
      const dir = await Deno.makeTempDir();
      const s = await spawnService(cfg, dir, ["--platform", "linux"], [
        "ip",
        "netns",
        "exec",
        gz,
        DENO,
        "run",
        "-A",
        MAIN,
      ]);
      child = s.child;
      const serving = await s.waitLog(/serving on/);
      assert.equal((serving.properties as { platform: string }).platform, "linux");
      assert.ok(linkNames(gz).includes("xde0"), "the GZ has xde0");
      assert.ok(linkNames(zone).includes("dns0"), "the zone has its port");
      assert.ok(await pingOk(zone, "fd00:1::1"), "zone → GZ over xde0");
      assert.ok(await pingOk(gz, "fd00:1::10"), "GZ → zone");

      // Capture on the zone's TAP port in the worker: what the zone sends (its echo requests,
      // beside whatever MLD/NDP it sends on its own).
      const pcap = `${dir}/dns0.pcap`;
      const curl = new Deno.Command("ip", {
        args: [
          ...["netns", "exec", gz, "curl", "-sf", "-o", pcap],
          `${s.url}/v1/ports/dns0/capture?direction=out&seconds=3`,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // The capture starts once curl's request reaches the worker (a few hundred ms on a busy
      // host): ping for longer than that, inside the capture window.
      await new Promise((r) => setTimeout(r, 300));
      const ping = await new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          zone,
          "ping",
          "-6",
          "-c",
          "8",
          "-i",
          "0.2",
          "-s",
          "77",
          "fd00:1::1",
        ],
        stdout: "null",
      }).output();
      assert.ok(ping.success, "zone → GZ ping under capture");
      const got = await curl.output();
      assert.ok(got.success, new TextDecoder().decode(got.stderr));
      const ts = await new Deno.Command("tshark", {
        args: [
          ...["-r", pcap, "-Y", "icmpv6.type == 128"],
          ...["-T", "fields", "-e", "icmpv6.type", "-e", "ipv6.dst", "-e", "frame.len"],
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(ts.success, new TextDecoder().decode(ts.stderr));
      // 77 bytes of data + 8 ICMPv6 + 40 IPv6 + 14 Ethernet, every one the same.
      const lines = new TextDecoder().decode(ts.stdout).trim().split("\n");
      assert.ok(lines.length >= 2, `echo requests captured: ${lines.length}`);
      assert.deepEqual(new Set(lines), new Set(["128\tfd00:1::1\t139"]));

      const cli = await new Deno.Command("ip", {
        args: ["netns", "exec", gz, DENO, "run", "-A", MAIN, "list-ports", "--url", s.url],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(cli.stdout);
      assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
      const rows = out.trim().split("\n").slice(1).map((l) => l.split(/\s+/));
      assert.deepEqual(rows.map((r) => r[0]).sort(), ["dns0", "xde0"], out);
      assert.ok(rows.find((r) => r[0] === "dns0")!.includes("running"), out);

      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      child = null;
      await s.waitLog(/^stopped$/);
      assert.ok(!linkNames(gz).includes("xde0"), "xde0 removed");
      assert.ok(!linkNames(zone).includes("dns0"), "the zone's TAP removed");
      assert.ok(linkNames(gz).includes("ul0"), "the underlay link is not ours to delete");
      const routes = sh(["ip", "-n", gz, "-6", "route", "show"]);
      assert.ok(!routes.includes("fd00::/16"), `routes left behind: ${routes}`);
    } finally {
      if (child) {
        child.kill("SIGKILL");
        await child.status;
      }
      delNetns(gz);
      delNetns(zone);
    }
  },
});

Deno.test({
  name: "xdeno run --platform linux: a start that fails exits 1 and leaves no TAP behind",
  ignore: !isRoot("xdeno run --platform linux, failed start"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const u = uniq();
    const gz = `${u}-gz`, zone = `${u}-z`;
    const start = async (cfg: string, listen: string) => {
      const dir = await Deno.makeTempDir();
      const o = await new Deno.Command("ip", {
        args: ["netns", "exec", gz, DENO, "run", "-A", MAIN, "run", "--config", cfg]
          .concat(["--listen", listen, "--state-dir", dir, "--log-format", "json"]),
        stdout: "null",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(o.stderr);
      const fatal = err.trim().split("\n").map((l) => JSON.parse(l)).find((r) =>
        r.level === "FATAL"
      );
      return { code: o.code, err, fatal: String(fatal?.message), dir };
    };
    const yaml = (z: string) => `
platform: linux
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16", hostInterface: xde0 }
ports:
  - { name: xde0, kind: host, mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] }
  - { name: dns0, kind: system, zone: ${z}, mac: "a8:40:25:00:00:10", addresses: ["fd00:1::10/64"] }
`;
    try {
      addNetns(gz);
      addNetns(zone);
      // The zone's namespace does not exist: the port after xde0 is refused, xde0 rolled back.
      let r = await start(await tempFile(yaml(`${u}-missing`)), "127.0.0.1:0");
      assert.equal(r.code, 1, r.err);
      assert.match(r.fatal, /cannot start: .*port\.dns0: open \(.*-missing\)/, r.err);
      assert.ok(!linkNames(gz).includes("xde0"), "xde0 removed after the failed start");
      assert.deepEqual([...Deno.readDirSync(r.dir)], [], "nothing persisted");
      // Every port is up, then the admin address cannot be bound (no IPv6 on lo): the
      // half-started service closes its datapath before it exits (the kernel would also drop
      // non-persistent TAPs with the process; this checks the outcome, whoever removes them).
      sh(["ip", "netns", "exec", gz, "sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=1"]);
      r = await start(await tempFile(yaml(zone)), "[::1]:0");
      assert.equal(r.code, 1, r.err);
      assert.match(r.fatal, /cannot start: .*(address|Cannot assign)/i, r.err);
      assert.ok(!linkNames(gz).includes("xde0"), "xde0 removed");
      assert.ok(!linkNames(zone).includes("dns0"), "dns0 removed");
    } finally {
      delNetns(gz);
      delNetns(zone);
    }
  },
});
