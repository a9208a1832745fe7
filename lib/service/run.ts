// `xdeno run`: loads the config, replays persisted API changes, serves the admin API, and
// handles SIGTERM/SIGINT (clean stop) and SIGHUP (reload, applying only the difference).

import { InvalidField } from "../contract/field_error.ts";
import { getLogger } from "@logtape/logtape";
import { adminApp } from "../admin/app.ts";
import { readTokenFile } from "../admin/auth.ts";
import { parseFlags } from "../admin/cli/args.ts";
import { Control } from "../admin/control.ts";
import { parseListen } from "../config/fields.ts";
import { formatProblems, loadConfig } from "../config/load.ts";
import { stateFromConfig } from "../config/resources.ts";
import type { Config } from "../config/schema.ts";
import { setupLogging } from "./logging.ts";
import { serviceNotifier } from "./notify.ts";
import { reloadConfig, type Running } from "./reload.ts";
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

/** The admin token; a file that cannot be read is named with the setting that chose it. */
async function adminToken(path: string): Promise<string> {
  try {
    return await readTokenFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? `${path}: no such file (make one with: xdeno gen-token ${path})`
      : (e as Error).message;
    throw new InvalidField("admin.tokenFile", `${why} (set by admin.tokenFile or --token-file)`);
  }
}

/** Runs the service until a signal stops it; returns the exit code. */
export async function runMain(args: string[], version: string): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const p = parseFlags(
    args,
    Object.fromEntries(
      ["config", "platform", "listen", "token-file", "state-dir", "log-format", "log-level"].map(
        (k) => [k, { type: "string" as const }],
      ),
    ),
  );
  const bad = !p.ok
    ? p.error
    : p.positionals.length
    ? `unexpected argument ${JSON.stringify(p.positionals[0])}`
    : null;
  if (!p.ok || bad) {
    console.error(`xdeno run: ${bad}\n${USAGE}`);
    return 2;
  }
  const v = p.values as Record<string, string | undefined>;
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
    // Under the unit, Deno's permission flags are narrow: say where they come from.
    const hint = e instanceof Deno.errors.NotCapable
      ? " (a Deno permission flag of this command line is missing or too narrow, e.g. --allow-net must match admin.listen: README, Privileges)"
      : "";
    log.fatal("cannot start: {error}", { error: (e as Error).message + hint });
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
  const token = cfg.admin.tokenFile ? await adminToken(cfg.admin.tokenFile) : null;
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
    try {
      server = Deno.serve(
        { hostname: addr.hostname, port: addr.port, onListen: () => {} },
        app.fetch,
      );
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
      throw new Error(
        `admin.listen ${cfg.admin.listen}: address already in use (another xdeno?); ` +
          "stop it or choose another address (admin.listen or --listen)",
      );
    }
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

  const running: Running = { started: cfg, log: cfg.log };
  const notify = await serviceNotifier();
  const onStop = (sig: string) => () => stopped.resolve(sig);
  const onHup = () => {
    notify.reloading();
    reloadConfig(file, running, ctl, (c) => applyFlags(c, flags)).catch((e) =>
      log.error("reload failed: {error}", { error: (e as Error).message })
    ).finally(() => notify.ready(`serving on ${a.hostname}:${a.port}`));
  };
  const handlers: [Deno.Signal, () => void][] = [["SIGTERM", onStop("SIGTERM")], [
    "SIGINT",
    onStop("SIGINT"),
  ]];
  if (Deno.build.os !== "windows") handlers.push(["SIGHUP", onHup]);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  // READY only once the signals are ours: a supervisor may stop us the moment it reads READY,
  // and a SIGTERM before the listeners would kill the process without its clean teardown.
  notify.ready(`serving on ${a.hostname}:${a.port}`);

  const sig = await stopped.promise;
  log.info("{signal}: stopping", { signal: sig });
  notify.stopping();
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  await server.shutdown();
  await fleet?.close();
  await datapath.close();
  log.info("stopped");
  return 0;
}
