// `xdeno replay` from the single-file build: built as `deno task dist` does (into a temp dir, so
// it does not race tests/dist/dist_test.ts over dist/), run alone with an empty HOME, it gives
// the same JSON and output capture as the source tree, and refuses a bad capture with exit 2.

import assert from "node:assert/strict";
import { lacks } from "../tools.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCEN = `${ROOT}tests/scenarios`;
const PY = "/usr/bin/python3";
const dec = new TextDecoder();

const NO_SCAPY = lacks("replay from xdeno.run", "scapy");

async function run(cmd: string, args: string[], opts: Deno.CommandOptions = {}) {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...opts })
    .output();
  return { code: o.code, stdout: o.stdout, stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "dist: xdeno.run replay gives the source tree's outputs, byte for byte",
  ignore: NO_SCAPY,
  sanitizeResources: false,
  fn: async () => {
    const box = await Deno.makeTempDir({ prefix: "xdeno-replay-dist-" });
    try {
      let r = await run(Deno.execPath(), [
        "bundle",
        "--quiet",
        "--platform=deno",
        "-o",
        `${box}/xdeno.js`,
        "main.ts",
      ], { cwd: ROOT });
      assert.equal(r.code, 0, r.stderr);
      r = await run("sh", ["tools/make_run.sh", `${box}/xdeno.js`, `${box}/xdeno.run`], {
        cwd: ROOT,
      });
      assert.equal(r.code, 0, r.stderr);
      await Deno.mkdir(`${box}/home`);

      const scen = `${SCEN}/snat_internet`;
      r = await run(PY, [`${SCEN}/pcapng_gen.py`, scen, `${box}/in.pcapng`]);
      assert.equal(r.code, 0, r.stderr);
      const args = (out: string) => [
        "replay",
        "--config",
        `${scen}/config.yaml`,
        `${box}/in.pcapng`,
        "-o",
        out,
        "--json",
      ];
      const dist = await run(`${box}/xdeno.run`, args(`${box}/dist.pcapng`), {
        env: { HOME: `${box}/home`, PATH: "/usr/bin:/bin" },
        clearEnv: true,
      });
      assert.equal(dist.code, 0, dist.stderr);
      const src = await run(Deno.execPath(), [
        "run",
        "-A",
        `${ROOT}main.ts`,
        ...args(`${box}/src.pcapng`),
      ]);
      assert.equal(src.code, 0, src.stderr);
      assert.equal(dec.decode(dist.stdout), dec.decode(src.stdout));
      assert.match(dec.decode(dist.stdout), /"frame":2,.*"egress":"vm-a"/);
      assert.deepEqual(
        await Deno.readFile(`${box}/dist.pcapng`),
        await Deno.readFile(`${box}/src.pcapng`),
      );

      const bad = await run(
        `${box}/xdeno.run`,
        args(`${box}/bad.pcapng`).map((a) => a === `${box}/in.pcapng` ? `${scen}/config.yaml` : a),
        { env: { HOME: `${box}/home`, PATH: "/usr/bin:/bin" }, clearEnv: true },
      );
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /config\.yaml: pcapng\.shb \(not a pcapng file\)/);
    } finally {
      await Deno.remove(box, { recursive: true });
    }
  },
});
