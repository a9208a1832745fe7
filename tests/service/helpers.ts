// Spawns `xdeno run` as a real process and reads its JSON log lines from stderr.

import { BASE_YAML } from "../admin/helpers.ts";

export { BASE_YAML };

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();

/** A running service process. */
export interface Service {
  child: Deno.ChildProcess;
  url: string;
  /** Every log record so far (JSON lines). */
  logs: Record<string, unknown>[];
  /** Resolves with the first log record whose message matches. */
  waitLog(re: RegExp, ms?: number): Promise<Record<string, unknown>>;
  /** ms from spawn to the "serving" line. */
  startMs: number;
}

/** Runs the service from source (or `cmd` + `pre` args) with JSON logs on port 0. */
export async function spawnService(
  config: string,
  stateDir: string,
  extra: string[] = [],
  cmd: string[] = [DENO, "run", "-A", MAIN],
  env: Record<string, string> = {},
  readyMs = 10000,
): Promise<Service> {
  const t0 = performance.now();
  const child = new Deno.Command(cmd[0], {
    args: [
      ...cmd.slice(1),
      "run",
      "--config",
      config,
      "--platform",
      "memory",
      "--listen",
      "127.0.0.1:0",
      "--state-dir",
      stateDir,
      "--log-format",
      "json",
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const waiters: { re: RegExp; resolve: (r: Record<string, unknown>) => void }[] = [];
  const text = (r: Record<string, unknown>) => String(r.message ?? "");
  (async () => {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line);
        } catch {
          rec = { message: line, raw: true };
        }
        logs.push(rec);
        for (const w of [...waiters]) {
          if (w.re.test(text(rec))) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(rec);
          }
        }
      }
    }
  })();
  const waitLog = (re: RegExp, ms = 10000) => {
    const hit = logs.find((r) => re.test(text(r)));
    if (hit) return Promise.resolve(hit);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const w = { re, resolve: (r: Record<string, unknown>) => (clearTimeout(t), resolve(r)) };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(
          new Error(
            `no log matching ${re} in ${ms} ms; got:\n${
              logs.map((l) => JSON.stringify(l)).join("\n")
            }`,
          ),
        );
      }, ms);
      waiters.push(w);
    });
  };
  const serving = await waitLog(/serving on/, readyMs);
  const startMs = performance.now() - t0;
  const url = (serving.properties as { url: string }).url;
  return { child, url, logs, waitLog, startMs };
}

/** Writes `text` to a new temp file and returns its path. */
export async function tempFile(text: string, suffix = ".yaml"): Promise<string> {
  const f = await Deno.makeTempFile({ prefix: "xdeno-", suffix });
  await Deno.writeTextFile(f, text);
  return f;
}
