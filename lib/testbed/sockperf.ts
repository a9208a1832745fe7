// TCP request/response (what control-plane traffic looks like): `sockperf ping-pong --tcp`
// between two namespaces, one message in flight, full round trips. sockperf's smallest message
// is 14 bytes (its own header), which stands in for "1 byte".

import { run, spawn, waitFor } from "./exec.ts";
import { type Endpoints, listening } from "./measure.ts";

/** Transactions per second and round-trip percentiles of one ping-pong run. */
export interface RrResult {
  tps: number;
  p50Us: number;
  p99Us: number;
}

const PORT = 11111;
/** Message sizes the harness runs: sockperf's minimum and 1 KB. */
export const RR_SIZES = { small: 14, "1k": 1024 } as const;

/** Reads a `sockperf ping-pong --full-rtt` report; throws naming what is missing. */
export function parseSockperf(out: string): RrResult {
  // deno-lint-ignore no-control-regex
  const text = out.replace(/\x1b\[[0-9;]*m/g, "");
  const valid = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=\d+; ReceivedMessages=(\d+)/
    .exec(text);
  const pct = (p: string) => {
    const m = new RegExp(`percentile ${p} =\\s*([\\d.]+)`).exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const p50 = pct("50\\.000"), p99 = pct("99\\.000");
  if (!valid || !Number.isFinite(p50) || !Number.isFinite(p99)) {
    throw new Error(
      `sockperf: no result in output: ${text.trim().split("\n").slice(-3).join(" | ")}`,
    );
  }
  const secs = Number(valid[1]);
  return { tps: secs > 0 ? Number(valid[2]) / secs : NaN, p50Us: p50, p99Us: p99 };
}

/** `seconds` of TCP ping-pong with `bytes`-byte messages from `ep.client` to `ep.dst`. */
export async function requestResponse(
  ep: Endpoints,
  seconds: number,
  bytes: number,
): Promise<RrResult> {
  const srv = spawn(["sockperf", "server", "--tcp", "-i", ep.dst, "-p", `${PORT}`], ep.server);
  try {
    if (!await waitFor(() => listening(ep.server, PORT), 5000, 20)) {
      throw new Error(`sockperf server in ${ep.server} did not start`);
    }
    const r = await run(
      ["sockperf", "ping-pong", "--tcp", "-i", ep.dst, "-p", `${PORT}`]
        .concat(["-t", `${seconds}`, "-m", `${bytes}`, "--full-rtt"]),
      { ns: ep.client, check: false, timeoutMs: (seconds + 15) * 1000 },
    );
    return parseSockperf(r.stdout + r.stderr);
  } finally {
    await srv.stop("SIGKILL", 500);
  }
}
