// SIGHUP: re-read the config and say what happened to each thing in it — every resource changed,
// every resource left alone because API state (state.json) pins it, every field that needs a
// restart — and apply the log settings at once.

import { getLogger } from "@logtape/logtape";
import type { Control } from "../admin/control.ts";
import { loadConfig } from "../config/load.ts";
import { canonical, stateFromConfig } from "../config/resources.ts";
import type { Config } from "../config/schema.ts";
import { setupLogging } from "./logging.ts";

const log = getLogger(["xdeno", "service"]);

/** Config fields a reload applies; every other field is read only at start. */
const APPLIED = new Set(["ports", "mappings", "underlay.routes", "log.level", "log.format"]);

/** Fields (`admin.listen`, `platform`, `sled.underlayAddress`, …) that differ between a and b. */
export function restartFields(a: Config, b: Config): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string, depth: number) => {
    if (APPLIED.has(path) || canonical(x) === canonical(y)) return;
    const obj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (depth < 2 && obj(x) && obj(y)) {
      const xo = x as Record<string, unknown>, yo = y as Record<string, unknown>;
      for (const k of new Set([...Object.keys(xo), ...Object.keys(yo)])) {
        walk(xo[k], yo[k], path ? `${path}.${k}` : k, depth + 1);
      }
    } else out.push(path);
  };
  walk(a, b, "", 0);
  return out;
}

/** What the running service is: the config it started with and the log settings now. */
export interface Running {
  /** The config in effect for fields read only at start. */
  readonly started: Config;
  log: Config["log"];
}

/**
 * Re-reads `file`, applies `flags` on top, and applies the difference; logs every change,
 * every pinned resource and every restart-only field. An invalid file changes nothing.
 */
export async function reloadConfig(
  file: string,
  running: Running,
  ctl: Control,
  flags: (c: Config) => void,
): Promise<void> {
  const r = await loadConfig(file);
  if (!r.ok) {
    log.error("reload: config invalid, keeping the running state ({count} problems)", {
      count: r.problems.length,
    });
    for (const p of r.problems) {
      log.error("reload: {path}: {problem}", {
        path: p.line ? `line ${p.line}: ${p.path}` : p.path,
        problem: p.message,
      });
    }
    return;
  }
  const cfg = r.config;
  flags(cfg);
  const restart = restartFields(running.started, cfg);
  for (const field of restart) {
    // Field names are the schema's own keys: inline, like the kinds below.
    log.warning(`reload: ${field} changed; takes effect on restart`, { field });
  }
  const before = ctl.state;
  let result;
  try {
    result = await ctl.reload(stateFromConfig(cfg));
  } catch (e) {
    log.error("reload: refused, keeping the running state: {error}", {
      error: (e as Error).message,
    });
    return;
  }
  for (const c of result.changes) {
    const action = c.value === null
      ? "removed"
      : (before[c.kind] as Map<string, unknown>).has(c.key)
      ? "changed"
      : "added";
    // Action and kind come from fixed sets: inline, so the line reads as a sentence.
    log.info(`reload: ${action} ${c.kind} {key}`, { action, kind: c.kind, key: c.key });
  }
  for (const p of result.pinned) {
    log.warning(
      `reload: kept ${p.kind} {key} as the API set it: state.json pins it, the config's edit is not applied`,
      { ...p },
    );
  }
  log.info(
    "reload: applied {count} changes; {pinned} pinned by API state; {restart} need a restart",
    {
      count: result.changes.length,
      pinned: result.pinned.length,
      restart: restart.length,
      changes: result.changes.map((c) =>
        `${c.value === null ? "remove" : "set"} ${c.kind} ${c.key}`
      ),
    },
  );
  // Last, so this reload's report is logged under the settings it started with.
  if (canonical(cfg.log) !== canonical(running.log)) {
    log.info("reload: log {from} → {to}", {
      from: `${running.log.format} at ${running.log.level}`,
      to: `${cfg.log.format} at ${cfg.log.level}`,
    });
    await setupLogging(cfg.log.format, cfg.log.level);
    running.log = cfg.log;
  }
}
