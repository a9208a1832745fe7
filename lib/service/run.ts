// `xdeno run`: loads the config, replays persisted API changes, serves the admin API, and
// handles SIGTERM/SIGINT (clean stop) and SIGHUP (reload, applying only the difference).

import { parseArgs } from "node:util";
import { getLogger } from "@logtape/logtape";
import { adminApp } from "../admin/app.ts";
import { readTokenFile } from "../admin/auth.ts";
import { Control } from "../admin/control.ts";
import { parseListen } from "../config/fields.ts";
import { formatProblems, loadConfig } from "../config/load.ts";
import { stateFromConfig } from "../config/resources.ts";
import type { Config } from "../config/schema.ts";
import { setupLogging } from "./logging.ts";
import { createDatapath } from "./platform.ts";
import { StateStore } from "./state.ts";
import { ServiceDatapath } from "./switch_datapath.ts";

const USAGE = `usage: xdeno run --config FILE [options]

options (override the config file):
  --platform linux|illumos|memory
  --listen ADDR:PORT          admin API address (default 127.0.0.1:7070; port 0 = any)
  --token-file FILE           bearer token (mode 600); required off loopback
  --state-dir DIR             where API changes are persisted
  --log-format text|json      stderr log format (default text)
  --log-level debug|info|warning|error`;

const log = getLogger(["xdeno", "service"]);

/** Command-line overrides on top of a config. */
function applyFlags(cfg: Config, v: Record<string, string | undefined>): string | null {
  if (v.platform) {
    if (!["linux", "illumos", "memory"].includes(v.platform)) {
      return `--platform: ${v.platform} is not linux|illumos|memory`;
    }
    cfg.platform = v.platform as Config["platform"];
  }
  if (v.listen) {
    if (!parseListen(v.listen)) return `--listen: ${JSON.stringify(v.listen)} is not ADDR:PORT`;
    cfg.admin.listen = v.listen;
  }
  if (v["token-file"]) cfg.admin.tokenFile = v["token-file"];
  if (v["state-dir"]) cfg.stateDir = v["state-dir"];
  if (v["log-format"]) {
    if (v["log-format"] !== "text" && v["log-format"] !== "json") {
      return "--log-format: text or json";
    }
    cfg.log.format = v["log-format"];
  }
  if (v["log-level"]) {
    if (!["debug", "info", "warning", "error"].includes(v["log-level"])) {
      return "--log-level: debug|info|warning|error";
    }
    cfg.log.level = v["log-level"] as Config["log"]["level"];
  }
  return null;
}

const isLoopback = (h: string) => h === "::1" || h.startsWith("127.");

/** Runs the service until a signal stops it; returns the exit code. */
export async function runMain(args: string[], version: string): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      options: Object.fromEntries(
        ["config", "platform", "listen", "token-file", "state-dir", "log-format", "log-level"].map((
          k,
        ) => [k, { type: "string" as const }]),
      ),
    }).values as Record<string, string | undefined>;
    if (args.includes("--help") || args.includes("-h")) throw new Error("help");
  } catch (e) {
    const help = (e as Error).message === "help";
    (help ? console.log : console.error)(
      help ? USAGE : `xdeno run: ${(e as Error).message}\n${USAGE}`,
    );
    return help ? 0 : 2;
  }
  if (!v.config) {
    console.error(`xdeno run: --config FILE is required\n${USAGE}`);
    return 2;
  }
  const file = v.config;
  const loaded = await loadConfig(file);
  if (!loaded.ok) {
    console.error(formatProblems(file, loaded.problems));
    return 2;
  }
  const cfg = loaded.config;
  const flagError = applyFlags(cfg, v);
  if (flagError) {
    console.error(`xdeno run: ${flagError}`);
    return 2;
  }
  await setupLogging(cfg.log.format, cfg.log.level);
  const t0 = performance.now();
  try {
    return await serve(file, cfg, v, version, t0);
  } catch (e) {
    log.fatal("cannot start: {error}", { error: (e as Error).message });
    return 1;
  }
}

async function serve(
  file: string,
  cfg: Config,
  flags: Record<string, string | undefined>,
  version: string,
  t0: number,
): Promise<number> {
  const addr = parseListen(cfg.admin.listen)!;
  const token = cfg.admin.tokenFile ? await readTokenFile(cfg.admin.tokenFile) : null;
  if (token === null && !isLoopback(addr.hostname)) {
    throw new Error(`admin.listen ${cfg.admin.listen} is not loopback: configure admin.tokenFile`);
  }
  const store = new StateStore(cfg.stateDir);
  const overrides = await store.load();
  const datapath = await createDatapath(cfg);
  let ctl: Control, server: Deno.HttpServer<Deno.NetAddr>;
  let fleet: { start(): void; close(): Promise<void> } | null = null;
  try {
    ctl = new Control(stateFromConfig(cfg), overrides, datapath, store);
    if (cfg.fleet) {
      // Loaded only in fleet mode (the etcd client is heavy); seeds the persisted fleet state.
      const { FleetAgent } = await import("../fleet/agent.ts").catch((e) => {
        throw new Error(
          `fleet: cannot load the etcd client (${e.message}); see lib/fleet/README.md`,
        );
      });
      fleet = await FleetAgent.prepare(cfg.fleet, ctl, {
        underlay: cfg.sled.underlayAddress,
        stateDir: cfg.stateDir,
      });
    }
    await ctl.start();
    fleet?.start();
    const app = adminApp(ctl, {
      token,
      maxBodyBytes: cfg.admin.maxBodyBytes,
      rateLimit: cfg.admin.rateLimit,
      version,
    });
    server = Deno.serve(
      { hostname: addr.hostname, port: addr.port, onListen: () => {} },
      app.fetch,
    );
  } catch (e) {
    // A start that fails leaves nothing behind: no TAP, address or route of a half-built sled.
    await fleet?.close().catch(() => {});
    await datapath.close().catch(() => {});
    throw e;
  }

  const stopped = Promise.withResolvers<string>();
  const a = server.addr as Deno.NetAddr;
  const host = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
  log.info(
    "xdeno {version} serving on {url} (platform {platform}, datapath {mode}, {ports} ports, {overrides} persisted changes) in {ms} ms",
    {
      version,
      url: `http://${host}:${a.port}`,
      platform: cfg.platform,
      mode: datapath instanceof ServiceDatapath ? datapath.mode : "fake",
      ports: ctl.state.port.size,
      overrides: overrides.size,
      ms: Math.round(performance.now() - t0),
    },
  );

  const onStop = (sig: string) => () => stopped.resolve(sig);
  const onHup = () => {
    reload(file, cfg, flags, ctl).catch((e) =>
      log.error("reload failed: {error}", { error: (e as Error).message })
    );
  };
  const handlers: [Deno.Signal, () => void][] = [["SIGTERM", onStop("SIGTERM")], [
    "SIGINT",
    onStop("SIGINT"),
  ]];
  if (Deno.build.os !== "windows") handlers.push(["SIGHUP", onHup]);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);

  const sig = await stopped.promise;
  log.info("{signal}: stopping", { signal: sig });
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  await server.shutdown();
  await fleet?.close();
  await datapath.close();
  log.info("stopped");
  return 0;
}

/** SIGHUP: re-reads the file, keeps flags and persisted API changes, applies the difference. */
async function reload(
  file: string,
  old: Config,
  flags: Record<string, string | undefined>,
  ctl: Control,
): Promise<void> {
  const r = await loadConfig(file);
  if (!r.ok) {
    log.error("reload: config invalid, keeping the running state ({count} problems)", {
      count: r.problems.length,
    });
    for (const p of r.problems) {
      log.error("reload: {path}: {problem}", { path: p.path, problem: p.message });
    }
    return;
  }
  applyFlags(r.config, flags);
  for (const k of ["platform", "stateDir"] as const) {
    if (r.config[k] !== old[k]) {
      log.warning("reload: {field} changed; takes effect on restart", { field: k });
    }
  }
  if (JSON.stringify(r.config.admin) !== JSON.stringify(old.admin)) {
    log.warning("reload: admin settings changed; take effect on restart");
  }
  const changes = await ctl.reload(stateFromConfig(r.config));
  log.info("reload: applied {count} changes", {
    count: changes.length,
    changes: changes.map((c) => `${c.value === null ? "remove" : "set"} ${c.kind} ${c.key}`),
  });
}
