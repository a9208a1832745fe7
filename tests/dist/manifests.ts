// The service manifests' command lines, run exactly as written (only their paths relocated into
// a temp box) on the linux platform, as root, in throwaway network namespaces: the GZ namespace
// stands in for the sled's global zone, a second one for a system zone.

import assert from "node:assert/strict";
import { addNetns, delNetns, isRoot, linkNames, sh, uniq } from "../link/netns.ts";
import { notifyReceiver } from "../service/notify.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const dec = new TextDecoder();

/** A unit file's settings as systemd reads them: `\` continues a line, comment lines inside a
 * continuation are skipped. */
export function unitSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let pending: string | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || line.startsWith(";")) continue;
    const cont = line.endsWith("\\");
    const body = cont ? line.slice(0, -1) : line;
    pending = pending === null ? body : `${pending} ${body}`;
    if (cont) continue;
    const eq = pending.indexOf("=");
    if (eq > 0 && !pending.startsWith("[")) {
      const k = pending.slice(0, eq);
      out.set(k, [...(out.get(k) ?? []), pending.slice(eq + 1).trim()]);
    }
    pending = null;
  }
  return out;
}

/** A command line without quoting (asserted) as argv. */
function argv(cmd: string): string[] {
  assert.ok(!/["'$]/.test(cmd), `the tests split on spaces only: ${cmd}`);
  return cmd.trim().split(/\s+/);
}

const UNIT = `${ROOT}dist/xdeno.service`;
const unit = async () => unitSettings(await Deno.readTextFile(UNIT));

/** The SMF manifest's start method and environment. */
async function smf(): Promise<{ start: string[]; env: Record<string, string> }> {
  const text = await Deno.readTextFile(`${ROOT}dist/xdeno.smf.xml`);
  const m = /name="start"[^>]*exec="([^"]+)"/.exec(text)!;
  const env: Record<string, string> = {};
  for (const e of text.matchAll(/<envvar name="([^"]+)" value="([^"]+)"\/>/g)) env[e[1]] = e[2];
  return { start: argv(m[1].replace(/&amp;/g, "&").replace(/\s*&$/, "")), env };
}

/** Replaces path prefixes (and SMF property tokens) everywhere in `s`. */
const relocate = (s: string, map: [string, string][]) =>
  map.reduce((a, [from, to]) => a.replaceAll(from, to), s);

/** The permission flags of a command line: no -A, and only --allow-ffi unscoped. */
function assertNarrow(args: string[]) {
  assert.ok(!args.includes("-A") && !args.includes("--allow-all"), args.join(" "));
  const allows = args.filter((a) => a.startsWith("--allow-"));
  const unscoped = allows.filter((a) => !a.includes("="));
  assert.ok(unscoped.every((a) => a === "--allow-ffi"), args.join(" "));
  assert.ok(!allows.some((a) => /^--allow-(run|sys)/.test(a)), args.join(" "));
}

const LINUX_YAML = (zone: string) => `
platform: linux
log: { format: json }
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16", hostInterface: xde0 }
underlay: { links: [{ name: ul0, linkLocal: "fe80::1:1" }] }
ports:
  - { name: xde0, kind: host, mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] }
  - { name: dns0, kind: system, zone: ${zone}, mac: "a8:40:25:00:00:10", addresses: ["fd00:1::10/64"] }
`;

async function run(cmd: string[], env: Record<string, string>) {
  const o = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

async function pingOk(ns: string, dst: string): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    const r = await run(["ip", "netns", "exec", ns, "ping", "-6", "-c", "2", "-i", "0.2", dst], {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    });
    if (r.code === 0) return true;
  }
  return false;
}

/**
 * Starts `start` (argv as the manifest has it, relocated) inside a fresh GZ namespace with a
 * notify socket; checks READY, the API, zone↔GZ pings, a SIGHUP reload, and that SIGTERM
 * leaves no device behind.
 */
async function serviceInNetns(
  box: string,
  start: (zone: string) => string[],
  env: Record<string, string>,
  notify: boolean,
) {
  const u = uniq();
  const gz = `${u}-gz`, zone = `${u}-z`;
  await Deno.mkdir(`${box}/etc`, { recursive: true });
  await Deno.writeTextFile(`${box}/etc/xdeno.yaml`, LINUX_YAML(zone));
  const rx = notify ? await notifyReceiver(`${box}/notify.sock`) : null;
  let child: Deno.ChildProcess | null = null;
  try {
    for (const n of [gz, zone]) {
      addNetns(n);
      sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
      sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
    }
    sh(["ip", "-n", gz, "link", "set", "lo", "up"]);
    // An underlay link: the packet socket and link monitor run under the same flags.
    sh(["ip", "-n", gz, "link", "add", "ul0", "type", "veth", "peer", "ul0p"]);
    sh(["ip", "netns", "exec", gz, "sysctl", "-qw", "net.ipv6.conf.ul0.disable_ipv6=1"]);
    sh(["ip", "-n", gz, "link", "set", "ul0", "up"]);
    sh(["ip", "-n", gz, "link", "set", "ul0p", "up"]);
    const cmd = ["ip", "netns", "exec", gz, ...start(zone)];
    child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      env: { ...env, ...(rx ? { NOTIFY_SOCKET: rx.address } : {}) },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    (async () => {
      for (;;) {
        const r = await log.read();
        if (r.done) break;
        text += r.value;
      }
    })();
    const api = async (path: string) => {
      const r = await run(
        ["ip", "netns", "exec", gz, "curl", "-sf", `http://127.0.0.1:7070${path}`],
        { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      );
      return r.code === 0 ? JSON.parse(r.out) : null;
    };
    const exited = child.status.then((st) => {
      throw new Error(`exited with ${st.code} before READY=1`);
    });
    exited.catch(() => {}); // only the race below cares; a later, normal exit is no error
    if (rx) {
      await Promise.race([rx.waitFor(/^READY=1\n/), exited]).catch((e) =>
        assert.fail(`${e}\nlog:\n${text}`)
      );
    } else {
      for (let i = 0; i < 100 && !/serving on/.test(text); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const ports = await api("/v1/ports");
    assert.ok(ports, `the admin API answers in the GZ; log:\n${text}`);
    assert.deepEqual(ports.map((p: { name: string }) => p.name).sort(), ["dns0", "xde0"]);
    const links = await api("/v1/underlay/links");
    assert.deepEqual(links.map((l: { name: string }) => l.name), ["ul0"]);
    assert.match(text, /"platform":"linux"/);
    assert.ok(linkNames(zone).includes("dns0"), "the zone has its port");
    assert.ok(await pingOk(zone, "fd00:1::1"), `zone → GZ over xde0; log:\n${text}`);
    assert.ok(await pingOk(gz, "fd00:1::10"), "GZ → zone");

    child.kill("SIGHUP");
    if (rx) {
      const i = rx.messages.indexOf(await rx.waitFor(/^RELOADING=1\nMONOTONIC_USEC=\d+$/));
      await rx.waitFor(/^READY=1\n/, i + 1);
    }
    for (let i = 0; i < 50 && !/reload: /.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(text, /reload: /);

    child.kill("SIGTERM");
    const st = await child.status;
    child = null;
    assert.equal(st.code, 0, text);
    if (rx) await rx.waitFor(/^STOPPING=1$/);
    assert.ok(!linkNames(gz).includes("xde0"), "xde0 removed");
    assert.ok(!linkNames(zone).includes("dns0"), "the zone's TAP removed");
    assert.ok(linkNames(gz).includes("ul0"), "the underlay link is not ours to delete");
  } finally {
    if (child) {
      try {
        child.kill("SIGKILL");
      } catch { /* exited already */ }
      await child.status;
    }
    await rx?.close();
    delNetns(gz);
    delNetns(zone);
  }
}

/** Registers the manifest tests; dist_test.ts calls it after building the files they run. */
export function manifestTests(): void {
  Deno.test({
    name: "systemd unit: systemd-analyze verify; Type=notify; runs xdeno.run; narrow permissions",
    ignore: Deno.env.get("CI") === undefined && !hasSystemdAnalyze(),
    sanitizeResources: false,
    fn: async () => {
      const s = await unit();
      assert.deepEqual(s.get("Type"), ["notify"]);
      assert.deepEqual(s.get("ReadWritePaths"), ["-/run/netns"]);
      const start = argv(s.get("ExecStart")![0]);
      assert.equal(start[0], "/usr/local/lib/xdeno/xdeno.run");
      assertNarrow(start);
      assertNarrow(argv(s.get("ExecStartPre")![0]));
      // systemd itself parses the unit (executables relocated so they exist).
      const box = await Deno.makeTempDir({ prefix: "xdeno-unit-" });
      try {
        const text = relocate(await Deno.readTextFile(UNIT), [
          ["/usr/local/lib/xdeno/xdeno.run", `${ROOT}dist/xdeno.run`],
        ]);
        await Deno.writeTextFile(`${box}/xdeno.service`, text);
        const v = await run(["systemd-analyze", "verify", "--man=no", `${box}/xdeno.service`], {
          PATH: "/usr/bin:/bin",
        });
        assert.equal(v.code, 0, v.err);
        assert.doesNotMatch(v.err, /xdeno\.service/, v.err);
      } finally {
        await Deno.remove(box, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      "systemd unit: its exact ExecStartPre and ExecStart, linux platform in a namespace: notify, zone↔GZ ping, reload, clean stop",
    ignore: !isRoot("the unit's command line on the linux platform"),
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const s = await unit();
      const box = await Deno.makeTempDir({ prefix: "xdeno-unit-" });
      const map: [string, string][] = [
        ["/usr/local/lib/xdeno", `${box}/lib`],
        ["/etc/xdeno", `${box}/etc`],
        ["/var/lib/xdeno", `${box}/state`],
        ["/var/cache/xdeno", `${box}/cache`],
      ];
      try {
        await Deno.mkdir(`${box}/lib`, { recursive: true });
        await Deno.mkdir(`${box}/cache`, { mode: 0o700 });
        await Deno.copyFile(`${ROOT}dist/xdeno.run`, `${box}/lib/xdeno.run`);
        await Deno.chmod(`${box}/lib/xdeno.run`, 0o755);
        const env: Record<string, string> = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
        for (const e of s.get("Environment") ?? []) {
          for (const kv of argv(e)) {
            const i = kv.indexOf("=");
            env[kv.slice(0, i)] = relocate(kv.slice(i + 1), map);
          }
        }
        const pre = argv(relocate(s.get("ExecStartPre")![0], map));
        const start = argv(relocate(s.get("ExecStart")![0], map));
        await serviceInNetns(box, () => start, env, s.get("Type")![0] === "notify");
        // ExecStartPre on the same files (its config names the zone namespace, now gone: a
        // check-config does not look at the system).
        const c = await run(pre, env);
        assert.equal(c.code, 0, c.err);
        assert.match(c.out, /ok \(2 ports, platform linux\)/);
        // The state the service wrote is where its --allow-write points, and nothing else is
        // written beside the binary.
        assert.deepEqual([...Deno.readDirSync(`${box}/lib`)].map((e) => e.name), ["xdeno.run"]);
      } finally {
        await Deno.remove(box, { recursive: true });
      }
    },
  });

  Deno.test({
    name:
      "SMF manifest: well-formed; its start method's permissions run the linux platform in a namespace",
    ignore: !isRoot("the SMF start method on the linux platform"),
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const xml = await run([
        "python3",
        "-c",
        "import sys, xml.dom.minidom as m; print(m.parse(sys.argv[1]).documentElement.tagName)",
        `${ROOT}dist/xdeno.smf.xml`,
      ], { PATH: "/usr/bin:/bin" });
      assert.equal(xml.out.trim(), "service_bundle", xml.err);
      const { start, env } = await smf();
      assertNarrow(start);
      const box = await Deno.makeTempDir({ prefix: "xdeno-smf-" });
      const map: [string, string][] = [
        ["/opt/xdeno/bin/deno", `${ROOT}node_modules/deno/deno`],
        ["/opt/xdeno/lib", `${box}/lib`],
        ["/etc/xdeno", `${box}/etc`],
        ["/var/cache/xdeno", `${box}/cache`],
        // Property tokens last: the paths they become contain the prefixes above.
        ["%{config/file}", `${box}/etc/xdeno.yaml`],
        ["%{config/state_dir}", `${box}/state`],
      ];
      try {
        await Deno.mkdir(`${box}/lib`, { recursive: true });
        for (const f of ["xdeno.js", "worker.ts"]) {
          await Deno.copyFile(`${ROOT}dist/${f}`, `${box}/lib/${f}`);
        }
        const e: Record<string, string> = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
        for (const [k, v] of Object.entries(env)) e[k] = relocate(v, map);
        // illumos's DLPI datapath cannot run here: the same command on the linux platform.
        const i = start.indexOf("--platform");
        assert.equal(start[i + 1], "illumos");
        const args = start.map((a, j) => j === i + 1 ? "linux" : relocate(a, map));
        await serviceInNetns(box, () => args, e, false);
      } finally {
        await Deno.remove(box, { recursive: true });
      }
    },
  });
}

function hasSystemdAnalyze(): boolean {
  try {
    return Deno.statSync("/usr/bin/systemd-analyze").isFile;
  } catch {
    console.warn("systemd-analyze missing: the unit's syntax check is skipped");
    return false;
  }
}
