import assert from "node:assert/strict";
import { BASE_YAML } from "../admin/helpers.ts";
import { spawnService } from "../service/helpers.ts";
import { manifestTests } from "./manifests.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const dec = new TextDecoder();

Deno.test({
  name:
    "dist/xdeno.run alone in an empty dir with empty HOME and DENO_DIR: --help, check-config, a memory service, the CLI",
  sanitizeResources: false,
  fn: async () => {
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "dist"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.equal(build.code, 0, dec.decode(build.stderr));

    const box = await Deno.makeTempDir({ prefix: "xdeno-dist-" });
    const home = `${box}/home`, denoDir = `${box}/deno_dir`, run = `${box}/bin`;
    for (const d of [home, denoDir, run]) await Deno.mkdir(d);
    await Deno.copyFile(`${ROOT}dist/xdeno.run`, `${run}/xdeno.run`);
    await Deno.chmod(`${run}/xdeno.run`, 0o755);
    assert.deepEqual([...Deno.readDirSync(run)].map((e) => e.name), ["xdeno.run"]);
    const env = { HOME: home, DENO_DIR: denoDir, PATH: "/usr/bin:/bin" };
    const exe = (args: string[]) =>
      new Deno.Command(`${run}/xdeno.run`, {
        args,
        cwd: run,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();

    let t0 = performance.now();
    let o = await exe(["--help"]);
    const first = performance.now() - t0;
    assert.equal(o.code, 0, dec.decode(o.stderr));
    assert.match(dec.decode(o.stdout), /^xdeno: a sled's virtual switch/);
    assert.match(dec.decode(o.stdout), /check-config/);
    t0 = performance.now();
    o = await exe(["version"]);
    const warm = performance.now() - t0;
    assert.match(dec.decode(o.stdout), /^xdeno 0\.1\.0 \(deno 2\.\d+\.\d+\)\n$/);
    console.log(
      `xdeno.run: first run (extract) ${Math.round(first)} ms, warm ${Math.round(warm)} ms`,
    );
    // Extraction lands in the cache under HOME, nothing else is written next to the binary.
    assert.deepEqual([...Deno.readDirSync(run)].map((e) => e.name), ["xdeno.run"]);
    assert.equal(
      [...Deno.readDirSync(`${home}/.cache/xdeno`)].filter((e) => !e.name.startsWith(".")).length,
      1,
    );

    await Deno.writeTextFile(`${run}/good.yaml`, BASE_YAML);
    await Deno.writeTextFile(
      `${run}/bad.yaml`,
      BASE_YAML.replace('"a8:40:25:00:00:10"', '"a8:40:25:00:00"'),
    );
    o = await exe(["check-config", "good.yaml"]);
    assert.equal(o.code, 0, dec.decode(o.stderr));
    assert.equal(dec.decode(o.stdout), "good.yaml: ok (2 ports, platform memory)\n");
    o = await exe(["check-config", "bad.yaml"]);
    assert.equal(o.code, 2);
    assert.equal(
      dec.decode(o.stderr),
      'bad.yaml: ports[0].mac: "a8:40:25:00:00" is not a MAC address (expected six hex pairs)\n',
    );

    const s = await spawnService(`${run}/good.yaml`, `${box}/state`, [], [`${run}/xdeno.run`], env);
    try {
      // The real switch runs in its Worker, loaded from the bundled worker.ts.
      const serving = await s.waitLog(/serving on/);
      assert.equal((serving.properties as { mode: string }).mode, "worker");
      const ports = await (await fetch(`${s.url}/v1/ports`)).json();
      assert.deepEqual(ports.map((p: { name: string }) => p.name), ["dns0", "opte0"]);
      o = await exe([
        "set-v2p",
        "10",
        "10.0.0.7",
        "a8:40:25:f0:00:07",
        "fd00:2::7",
        "--url",
        s.url,
      ]);
      assert.equal(o.code, 0, dec.decode(o.stderr));
      o = await exe(["dump-v2p", "--url", s.url]);
      assert.equal(
        dec.decode(o.stdout).split("\n")[2],
        "10   10.0.0.7  a8:40:25:f0:00:07  fd00:2::7  api",
      );
    } finally {
      s.child.kill("SIGTERM");
    }
    assert.equal((await s.child.status).code, 0);
    const saved = JSON.parse(await Deno.readTextFile(`${box}/state/state.json`));
    assert.equal(saved.changes[0].key, "10/10.0.0.7");
    await Deno.remove(box, { recursive: true });
  },
});

// The manifest tests run the bundle built above: registered here so they run after it (test
// files run in parallel, tests within one file in order).
manifestTests();
