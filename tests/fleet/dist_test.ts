// The single-file build in fleet mode: xdeno.run (built here into a temp dir, so it races no
// other test's dist/) runs two sleds against a real etcd on loopback; the V2P each publishes for
// its overlay port appears on the other as a fleet entry, and a stopped sled's entry goes.

import assert from "node:assert/strict";
import { spawnService } from "../service/helpers.ts";
import { EtcdCluster, haveEtcd, until } from "./etcd.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const skip = !haveEtcd();
if (skip) console.warn("SKIP fleet dist: etcd not installed (tests/setup.sh installs etcd-server)");

/** Builds xdeno.run into `dir` the way `deno task dist` does; its path. */
export async function buildRun(dir: string): Promise<string> {
  const sh =
    `"${Deno.execPath()}" bundle --quiet --platform=deno -o "${dir}/xdeno.js" main.ts && ` +
    `DENO_BIN="${Deno.execPath()}" sh tools/make_run.sh "${dir}/xdeno.js" "${dir}/xdeno.run"`;
  const o = await new Deno.Command("sh", { args: ["-c", sh], cwd: ROOT, stderr: "piped" })
    .output();
  assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  return `${dir}/xdeno.run`;
}

/** A memory-platform sled config with one overlay port, in fleet mode. */
function sledConfig(n: number, endpoints: string[], ip: string): string {
  return JSON.stringify({
    platform: "memory",
    sled: { underlayAddress: `fd00:${n}::1`, underlayPrefix: "fd00::/16" },
    underlay: {
      links: [{ name: "ul0" }],
      routes: [{ prefix: "fd00::/16", nextHops: [{ link: "ul0", via: "fe80::1" }] }],
    },
    ports: [{
      name: `opte${n}`,
      kind: "instance",
      mac: `a8:40:25:f0:00:0${n}`,
      overlay: { vni: 10, ipv4: `${ip}/24` },
    }],
    fleet: { etcd: { endpoints, dialTimeoutMs: 1000 }, sledId: `sled${n}`, leaseTtlSeconds: 3 },
  });
}

type Row = { ip: string; underlay: string; source: string };

Deno.test({
  name: "fleet dist: xdeno.run in fleet mode, a V2P published by one sled appears on another",
  ignore: skip && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const box = await Deno.makeTempDir({ prefix: "xdeno-fleet-dist-" });
    const etcd = await EtcdCluster.start({ n: 1 });
    const svcs: Awaited<ReturnType<typeof spawnService>>[] = [];
    try {
      const run = await buildRun(box);
      const env = { HOME: `${box}/home`, DENO_DIR: `${box}/deno_dir`, PATH: "/usr/bin:/bin" };
      const ips = ["10.0.0.5", "10.0.0.9"];
      for (const n of [1, 2]) {
        const cfg = `${box}/sled${n}.yaml`;
        await Deno.writeTextFile(cfg, sledConfig(n, etcd.endpoints, ips[n - 1]));
        svcs.push(await spawnService(cfg, `${box}/state${n}`, [], [run], env, 60000));
      }
      const v2p = async (k: number) => await (await fetch(`${svcs[k].url}/v1/v2p`)).json() as Row[];
      await until("each sled has the other's V2P from the fleet", async () => {
        const [a, b] = [await v2p(0), await v2p(1)];
        return a.some((r) => r.ip === "10.0.0.9" && r.source === "fleet") &&
          b.some((r) => r.ip === "10.0.0.5" && r.source === "fleet");
      });
      const row = (await v2p(1)).find((r) => r.ip === "10.0.0.5")!;
      assert.equal(row.underlay, "fd00:1::1");
      // etcd itself holds the entry sled1 published (an oracle besides our own client).
      const held = await etcd.ctl("get", "/xdeno/v2p/10/10.0.0.5", "--print-value-only");
      assert.equal(JSON.parse(held).sled, "sled1");

      const status = await (await fetch(`${svcs[1].url}/v1/fleet`)).json();
      assert.equal(status.state, "ok");
      assert.deepEqual(status.sleds, ["sled1", "sled2"]);
      // `show` (the bundled CLI) carries the fleet block in fleet mode.
      const show = await new Deno.Command(run, {
        args: ["show", "--url", svcs[1].url],
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(show.stdout);
      assert.equal(show.code, 0, new TextDecoder().decode(show.stderr));
      const fleet = text.split("\n").slice(text.split("\n").indexOf("    Fleet"));
      assert.match(fleet.join("\n"), /^ {4}Fleet\n {8}sled {7}sled2\n {8}etcd {7}http:/);
      assert.match(fleet.join("\n"), /\n {8}state {6}ok\n/);

      // A clean stop revokes sled1's lease: its entry leaves sled2.
      svcs[0].child.kill("SIGTERM");
      await svcs[0].child.status;
      await until(
        "sled1's V2P gone from sled2",
        async () => !(await v2p(1)).some((r) => r.ip === "10.0.0.5"),
      );
    } finally {
      for (const s of svcs) {
        try {
          s.child.kill("SIGKILL");
        } catch { /* gone */ }
        await s.child.status;
        await s.child.stderr.cancel().catch(() => {});
      }
      await etcd.stop();
      await Deno.remove(box, { recursive: true }).catch(() => {});
    }
  },
});
