// Reading and validating a config file: YAML syntax errors and schema errors both come back
// as `path: reason` lines, never as exceptions, so check-config can print all of them at once.

import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { Config } from "./schema.ts";

/** One thing wrong with a config, located by field path (`ports[2].mac`) or line. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Either a validated config or every problem found. */
export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Formats a zod path as `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s === "" ? "(top level)" : s;
}

/** Turns zod issues into operator-facing problems (field path + reason). */
export function zodProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const i of issues) {
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) {
        out.push({
          path: formatPath([...i.path, k]),
          message: "unknown field (check the spelling)",
        });
      }
      continue;
    }
    if (i.code === "invalid_union") {
      // A union's own message is generic; the first branch's reason is the useful one.
      const inner = i.errors.find((e) => e.length > 0);
      if (inner) {
        out.push(...zodProblems(inner.map((e) => ({ ...e, path: [...i.path, ...e.path] }))));
        continue;
      }
    }
    const msg = i.message.replace(/^Invalid (input|option): /, "");
    out.push({
      path: formatPath(i.path),
      message: i.code === "invalid_type" && msg.includes("undefined") ? "is required" : msg,
    });
  }
  return out;
}

/** Validates an already-parsed value. */
export function validateConfig(value: unknown): ConfigResult {
  const r = Config.safeParse(value ?? {});
  return r.success
    ? { ok: true, config: r.data }
    : { ok: false, problems: zodProblems(r.error.issues) };
}

/** Parses YAML text and validates it. */
export function parseConfigText(text: string): ConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line} column ${e.linePos[0].col}` : "(yaml)",
        message: `YAML syntax: ${e.message.split("\n")[0]}`,
      })),
    };
  }
  return validateConfig(doc.toJS());
}

/** Reads and validates `file`; a read failure is one problem, not an exception. */
export async function loadConfig(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    return {
      ok: false,
      problems: [{ path: "(file)", message: `cannot read: ${(e as Error).message}` }],
    };
  }
  return parseConfigText(text);
}

/** Formats problems one per line as `FILE: path: reason`. */
export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems.map((p) => `${file}: ${p.path}: ${p.message}`).join("\n");
}
