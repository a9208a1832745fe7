// The first five minutes: the example config and a token from xdeno itself, the documented dry
// run on the memory platform, and the messages a first start can hit.

import assert from "node:assert/strict";
import { xdeno } from "../admin/cli_helpers.ts";
import { spawnService, tempFile } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** Runs `xdeno ARGS` from source in `cwd`. */
async function run(args: string[], cwd = ROOT) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

Deno.test({
  name: "example-config + gen-token + one command: a dry run on the memory platform",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-first-" });
    try {
      let r = await run(["example-config"]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, await Deno.readTextFile(`${ROOT}dist/xdeno.example.yaml`));
      await Deno.writeTextFile(`${dir}/xdeno.yaml`, r.out);
      r = await run(["check-config", `${dir}/xdeno.yaml`]);
      assert.equal(r.code, 0, r.out + r.err);

      r = await run(["gen-token", `${dir}/token`]);
      assert.equal(r.code, 0, r.err);
      const st = await Deno.stat(`${dir}/token`);
      assert.equal(st.mode! & 0o777, 0o600);
      const token = (await Deno.readTextFile(`${dir}/token`)).trim();
      assert.match(token, /^[0-9a-f]{64}$/);
      r = await run(["gen-token", `${dir}/token`]);
      assert.equal(r.code, 1);
      assert.match(r.err, /exists; remove it first/);
      assert.equal((await Deno.readTextFile(`${dir}/token`)).trim(), token, "kept");

      // README's dry run (with an ephemeral port instead of 7070).
      const svc = await spawnService(`${dir}/xdeno.yaml`, `${dir}/state`, [
        "--token-file",
        `${dir}/token`,
      ]);
      try {
        r = await xdeno(svc.url, "list-ports", "--token-file", `${dir}/token`);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^NAME +KIND/);
        r = await xdeno(svc.url, "list-ports");
        assert.equal(r.code, 1);
        assert.match(r.err, /--token-file FILE or XDENO_TOKEN_FILE/);
      } finally {
        svc.child.kill("SIGTERM");
        await svc.child.status;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("xdeno run: --help, unknown options, a missing token file, an address in use", async () => {
  let r = await run(["run", "--help"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^usage: xdeno run --config FILE/);
  r = await run(["run", "--bogus"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /^xdeno run: unknown option --bogus\n/);
  assert.ok(!r.err.includes("after '--'"), r.err);

  const cfg = await tempFile(`platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
underlay: { links: [{ name: ul0 }] }
`);
  const state = await Deno.makeTempDir();
  const start = (listen: string, ...extra: string[]) =>
    run(["run", "--config", cfg, "--state-dir", state, "--listen", listen, ...extra]);
  try {
    r = await start("127.0.0.1:0", "--token-file", `${state}/nope`);
    assert.equal(r.code, 1);
    assert.match(r.err, /admin\.tokenFile: .*\/nope: no such file/);
    assert.match(r.err, /xdeno gen-token/);

    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (busy.addr as Deno.NetAddr).port;
      r = await start(`127.0.0.1:${port}`);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        new RegExp(`admin\\.listen 127\\.0\\.0\\.1:${port}: address already in use`),
      );
    } finally {
      busy.close();
    }
  } finally {
    await Deno.remove(cfg);
    await Deno.remove(state, { recursive: true });
  }
});
