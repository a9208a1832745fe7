import assert from "node:assert/strict";
import { BASE_YAML } from "../admin/helpers.ts";
import { spawnService, tempFile } from "../service/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The unit's ExecStart as argv (continuation lines joined). */
async function unitExecStart(): Promise<string[]> {
  const text = (await Deno.readTextFile(`${ROOT}dist/xdeno.service`)).replace(/\\\n\s*/g, " ");
  const line = text.split("\n").find((l) => l.startsWith("ExecStart="))!;
  return line.slice("ExecStart=".length).trim().split(/\s+/);
}

/** The SMF start method as argv (background `&` dropped, XML entities decoded). */
async function smfStart(): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}dist/xdeno.smf.xml`);
  const m = /name="start"[^>]*exec="([^"]+)"/.exec(text)!;
  return m[1].replace(/&amp;/g, "&").replace(/\s*&$/, "").split(/\s+/);
}

function assertExplicit(argv: string[]) {
  assert.ok(!argv.includes("-A") && !argv.includes("--allow-all"), argv.join(" "));
  assert.ok(argv.includes("--cached-only"));
  assert.ok(argv.some((a) => a.startsWith("--allow-ffi")));
}

/** Runs a manifest's command with our runtime, bundle and temp paths, on the memory platform. */
async function runLike(argv: string[], subst: Record<string, string>) {
  const cfg = await tempFile(BASE_YAML);
  const state = await Deno.makeTempDir({ prefix: "xdeno-unit-" });
  const map = (a: string) => {
    for (const [k, v] of Object.entries(subst)) a = a.replaceAll(k, v);
    return a.replaceAll("@CFG@", cfg).replaceAll("@STATE@", state);
  };
  const args = argv.map(map);
  // The state dir given on the command line must be inside what --allow-write grants.
  const writes = args.find((a) => a.startsWith("--allow-write="))!;
  assert.ok(writes.split("=")[1].split(",").includes(state), writes);
  const denoDir = await Deno.makeTempDir();
  const runIdx = args.indexOf("run", 1 + args.findIndex((a) => a.endsWith("xdeno.js")));
  const s = await spawnService(
    cfg,
    state,
    [],
    args.slice(0, runIdx).filter((a, i, all) => !(a === "--config" || all[i - 1] === "--config")),
    { DENO_DIR: denoDir, HOME: denoDir, PATH: "/usr/bin:/bin" },
  );
  try {
    const r = await fetch(`${s.url}/v1/m2p`, {
      method: "PUT",
      body: JSON.stringify({ group: "239.1.1.1", underlay: "ff04::1" }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(r.status, 200, await r.text());
  } finally {
    s.child.kill("SIGTERM");
  }
  assert.equal((await s.child.status).code, 0);
  assert.ok((await Deno.stat(`${state}/state.json`)).isFile);
}

/** Registers the manifest tests; dist_test.ts calls it after building the bundle they run. */
export function manifestTests(): void {
  Deno.test({
    name: "systemd unit: explicit permissions that suffice to run the bundle and persist state",
    sanitizeResources: false,
    fn: async () => {
      const argv = await unitExecStart();
      assertExplicit(argv);
      const unit = await Deno.readTextFile(`${ROOT}dist/xdeno.service`);
      assert.match(unit, /^AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_ADMIN$/m);
      assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
      await Deno.stat(`${ROOT}dist/xdeno.js`).catch(() => {
        throw new Error("dist/xdeno.js missing: run deno task dist (tests/dist/dist_test.ts does)");
      });
      await runLike(argv, {
        "/usr/local/lib/xdeno/deno": `${ROOT}node_modules/deno/deno`,
        "/usr/local/lib/xdeno/xdeno.js": `${ROOT}dist/xdeno.js`,
        "/etc/xdeno/xdeno.yaml": "@CFG@",
        "/var/lib/xdeno": "@STATE@",
      });
    },
  });

  Deno.test({
    name: "SMF manifest: well-formed, explicit permissions that suffice (illumos → memory here)",
    sanitizeResources: false,
    fn: async () => {
      const xml = await new Deno.Command("/usr/bin/python3", {
        args: [
          "-c",
          "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(d.documentElement.tagName)",
          `${ROOT}dist/xdeno.smf.xml`,
        ],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(xml.stdout).trim(), "service_bundle");
      const argv = await smfStart();
      assertExplicit(argv);
      await runLike(argv, {
        "/opt/xdeno/bin/deno": `${ROOT}node_modules/deno/deno`,
        "/opt/xdeno/lib/xdeno.js": `${ROOT}dist/xdeno.js`,
        "%{config/file}": "@CFG@",
        "%{config/state_dir}": "@STATE@",
        "/var/lib/xdeno": "@STATE@",
      });
    },
  });
}
