// Command-line flags through node:util's parseArgs, with its errors said in our words (its
// "place it at the end after '--'" advice is about positionals that start with a dash, which
// no xdeno verb takes).

import { parseArgs } from "node:util";

/** A flag's type as parseArgs wants it (`short` for the one-letter alias). */
export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Parsed flags and positionals, or the usage error to print. */
export type Parsed =
  | { ok: true; values: Record<string, string | boolean | undefined>; positionals: string[] }
  | { ok: false; error: string };

/** Parses `args` against `options`; unknown options and missing values become short messages. */
export function parseFlags(args: string[], options: FlagSpec): Parsed {
  try {
    const p = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { ok: true, values: p.values, positionals: p.positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    const opt = (/option '([^']+)'/i.exec(err.message)?.[1] ?? "").replace(/ <value>$/, "");
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      return { ok: false, error: `unknown option ${opt}` };
    }
    if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const takesNone = /does not take an argument/.test(err.message);
      return { ok: false, error: `${opt} ${takesNone ? "takes no value" : "needs a value"}` };
    }
    return { ok: false, error: err.message.split(". To specify")[0] };
  }
}
