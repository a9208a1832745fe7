import assert from "node:assert/strict";
import { BASE_YAML, spawnService, tempFile } from "./helpers.ts";

const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
};

Deno.test("run: starts fast, serves the config, SIGTERM stops cleanly", async () => {
  const cfg = await tempFile(BASE_YAML);
  const dir = await Deno.makeTempDir();
  const s = await spawnService(cfg, dir);
  try {
    const serving = await s.waitLog(/serving on/);
    const props = serving.properties as { ms: number; ports: number; platform: string };
    assert.equal(props.ports, 2);
    assert.equal(props.platform, "memory");
    assert.ok(props.ms < 500, `in-process start ${props.ms} ms`);
    assert.ok(s.startMs < 3000, `spawn-to-serving ${s.startMs} ms`);
    console.log(`start: ${props.ms} ms in process, ${Math.round(s.startMs)} ms from spawn`);
    const r = await get(`${s.url}/v1/ports`);
    assert.deepEqual(r.body.map((p: { name: string }) => p.name), ["dns0", "opte0"]);
    assert.equal(serving.level, "INFO");
    assert.deepEqual(serving.logger, "xdeno.service");
  } finally {
    s.child.kill("SIGTERM");
  }
  const st = await s.child.status;
  assert.equal(st.code, 0);
  await s.waitLog(/^stopped$/);
  await s.waitLog(/SIGTERM.*stopping/);
});

Deno.test("run: SIGHUP reload applies only the difference and keeps API changes", async () => {
  const cfg = await tempFile(BASE_YAML);
  const dir = await Deno.makeTempDir();
  const s = await spawnService(cfg, dir);
  try {
    const put = await fetch(`${s.url}/v1/m2p`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ group: "239.1.1.1", underlay: "ff04::1" }),
    });
    assert.equal(put.status, 200);
    await put.body?.cancel();
    // New config: dns0 removed, one more V2P; opte0 unchanged.
    const next = BASE_YAML.replace(/^ {2}- \{ name: dns0.*\n/m, "").replace(
      "mappings:\n  v2p: [",
      'mappings:\n  v2p: [{ vni: 10, ip: 10.0.0.9, mac: "a8:40:25:f0:00:09", underlay: "fd00:2::9" }, ',
    );
    assert.notEqual(next, BASE_YAML);
    await Deno.writeTextFile(cfg, next);
    s.child.kill("SIGHUP");
    const rec = await s.waitLog(/reload: applied/);
    const p = rec.properties as { count: number; changes: string[] };
    assert.deepEqual(p.changes.sort(), ["remove port dns0", "set v2p 10/10.0.0.9"]);
    const ports = await get(`${s.url}/v1/ports`);
    assert.deepEqual(ports.body.map((x: { name: string }) => x.name), ["opte0"]);
    assert.equal((await get(`${s.url}/v1/v2p`)).body.length, 2);
    assert.deepEqual((await get(`${s.url}/v1/m2p`)).body, [{
      group: "239.1.1.1",
      underlay: "ff04::1",
      source: "api",
    }]);

    // An invalid file is refused and the running state kept.
    await Deno.writeTextFile(cfg, "ports: [ { name: 1 } ]\n");
    s.child.kill("SIGHUP");
    await s.waitLog(/reload: config invalid/);
    assert.equal((await get(`${s.url}/v1/ports`)).body.length, 1);
  } finally {
    s.child.kill("SIGINT");
  }
  assert.equal((await s.child.status).code, 0);
  await s.waitLog(/SIGINT.*stopping/);
});

Deno.test("run: bad config exits 2 naming the field; bad flag exits 2", async () => {
  const bad = await tempFile(BASE_YAML.replace('"a8:40:25:f0:00:01"', '"a8:40:25:zz:00:01"'));
  const run = async (args: string[]) => {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: o.code, err: new TextDecoder().decode(o.stderr) };
  };
  let r = await run(["run", "--config", bad]);
  assert.equal(r.code, 2);
  assert.equal(
    r.err.trim(),
    `${bad}: ports[1].mac: "a8:40:25:zz:00:01" is not a MAC address (expected six hex pairs)`,
  );
  const good = await tempFile(BASE_YAML);
  r = await run(["run", "--config", good, "--listen", "localhost"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--listen: "localhost" is not ADDR:PORT/);
});

Deno.test("run: refuses a world-readable token file and a non-loopback listen without token", async () => {
  const cfg = await tempFile(BASE_YAML);
  const tok = await tempFile("0123456789abcdef0123", ".token");
  await Deno.chmod(tok, 0o644);
  const run = async (args: string[]) => {
    const o = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../main.ts", import.meta.url).pathname,
        "run",
        "--config",
        cfg,
        "--platform",
        "memory",
        "--state-dir",
        await Deno.makeTempDir(),
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: o.code, err: new TextDecoder().decode(o.stderr) };
  };
  let r = await run(["--token-file", tok, "--listen", "127.0.0.1:0"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /accessible by group\/others \(mode 644\)/);
  r = await run(["--listen", "0.0.0.0:0"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /not loopback: configure admin.tokenFile/);
});
