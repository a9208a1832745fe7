// Reading and validating a config file: YAML syntax errors and schema errors both come back
// as `path: reason` lines, never as exceptions, so check-config can print all of them at once.

import { type Document, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { type Claim, conflicts, portClaims } from "./conflicts.ts";
import { Config } from "./schema.ts";

/** One thing wrong with a config, located by field path (`ports[2] (zone-b).mac`) and line. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** 1-based line in the YAML text, when known. */
  line?: number;
}

/** Where a field path points: its label (ports named) and, from YAML text, its line. */
type Locate = (at: readonly PropertyKey[]) => { path: string; line?: number };

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

interface RawProblem {
  at: PropertyKey[];
  message: string;
}

function zodRaw(issues: readonly z.core.$ZodIssue[]): RawProblem[] {
  const out: RawProblem[] = [];
  for (const i of issues) {
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) {
        out.push({ at: [...i.path, k], message: "unknown field (check the spelling)" });
      }
      continue;
    }
    if (i.code === "invalid_union") {
      // A union's own message is generic; the first branch's reason is the useful one.
      const inner = i.errors.find((e) => e.length > 0);
      if (inner) {
        out.push(...zodRaw(inner.map((e) => ({ ...e, path: [...i.path, ...e.path] }))));
        continue;
      }
    }
    const msg = i.message.replace(/^Invalid (input|option): /, "");
    out.push({
      at: [...i.path],
      message: i.code === "invalid_type" && msg.includes("undefined") ? "is required" : msg,
    });
  }
  return out;
}

/** Turns zod issues into operator-facing problems (field path + reason). */
export function zodProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return zodRaw(issues).map((p) => ({ path: formatPath(p.at), message: p.message }));
}

/** Labels paths, naming ports: `ports[2] (zone-b).mac`. */
function namesOnly(value: unknown): Locate {
  const ports = (value as { ports?: unknown } | null)?.ports;
  return (at) => {
    const path = formatPath(at);
    const i = at[1];
    if (at[0] !== "ports" || typeof i !== "number" || !Array.isArray(ports)) return { path };
    const name = (ports[i] as { name?: unknown } | undefined)?.name;
    return {
      path: typeof name === "string" ? path.replace(`ports[${i}]`, `ports[${i}] (${name})`) : path,
    };
  };
}

/** Labels paths and finds their line: the node's, or its nearest existing ancestor's. */
function inDocument(doc: Document, lines: LineCounter, value: unknown): Locate {
  const names = namesOnly(value);
  return (at) => {
    for (let n = at.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null)?.range;
      if (range) return { ...names(at), line: lines.linePos(range[0]).line };
    }
    return names(at);
  };
}

/** The problem at its place; a port a message refers to by index is named too. */
function located(p: RawProblem, locate: Locate): ConfigProblem {
  const message = p.message.replace(/\bports\[(\d+)\]((?:\.\w+)*)/g, (_, i, rest) => {
    const at = locate(["ports", Number(i), ...rest.split(".").filter(Boolean)]);
    return `${at.path}${at.line ? ` (line ${at.line})` : ""}`;
  });
  return { ...locate(p.at), message };
}

/** Two ports claiming one (VNI, address) or external IP: the later one names the first. */
function claimProblems(c: Config, locate: Locate): ConfigProblem[] {
  const index = new Map(c.ports.map((p, i) => [p.name, i]));
  const claims = c.ports.flatMap((p) => portClaims(p.name, p.overlay, p.externalIps));
  const where = (x: Claim) => locate(["ports", index.get(x.port)!, ...x.at]);
  return conflicts(claims).map(([a, b]) => {
    const first = where(a);
    return {
      ...where(b),
      message: `${b.what} is already used by ${first.path}${
        first.line ? ` (line ${first.line})` : ""
      }: each must belong to one port`,
    };
  });
}

/** Validates an already-parsed value (`locate` labels paths; default: ports named). */
export function validateConfig(value: unknown, locate: Locate = namesOnly(value)): ConfigResult {
  const r = Config.safeParse(value ?? {});
  if (!r.success) {
    return { ok: false, problems: zodRaw(r.error.issues).map((p) => located(p, locate)) };
  }
  const clashes = claimProblems(r.data, locate);
  return clashes.length ? { ok: false, problems: clashes } : { ok: true, config: r.data };
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
  const value = doc.toJS();
  return validateConfig(value, inDocument(doc, lineCounter, value));
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

/** Formats problems one per line as `FILE:LINE: path: reason` (`FILE: …` without a line). */
export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems.map((p) => `${file}${p.line ? `:${p.line}` : ""}: ${p.path}: ${p.message}`)
    .join("\n");
}
