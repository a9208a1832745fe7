// LogTape setup: one synchronous stderr sink (so nothing is lost at exit), text or JSON lines.

import {
  configure,
  getTextFormatter,
  jsonLinesFormatter,
  type LogRecord,
  reset,
} from "@logtape/logtape";

/** Output format of the service log. */
export type LogFormat = "text" | "json";

const enc = new TextEncoder();

/** Routes every `xdeno.*` logger to stderr at `level` and above. */
export async function setupLogging(
  format: LogFormat,
  level: "debug" | "info" | "warning" | "error",
): Promise<void> {
  const fmt = format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time-timezone" });
  const sink = (r: LogRecord) => {
    Deno.stderr.writeSync(enc.encode(fmt(r)));
  };
  await configure({
    reset: true,
    sinks: { stderr: sink },
    loggers: [
      { category: ["xdeno"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/** Drops the logging configuration (tests). */
export function resetLogging(): Promise<void> {
  return reset();
}
