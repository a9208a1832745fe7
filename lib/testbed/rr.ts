// TCP request/response (what control-plane traffic looks like): the `rr.c` probe between two
// namespaces, one connection, one message in flight, full round trips, IPv4 or IPv6. (sockperf
// 3.7, the one in Debian 12, refuses IPv6 addresses, and the zones talk IPv6.)

import { run, spawn, waitFor } from "./exec.ts";
import { type Endpoints, listening, probeBinary } from "./measure.ts";

/** Transactions per second and round-trip percentiles of one run. */
export interface RrResult {
  tps: number;
  p50Us: number;
  p99Us: number;
}

const PORT = 5401;
/** Message sizes the harness runs: 1 byte and 1 KB, each way. */
export const RR_SIZES = { small: 1, "1k": 1024 } as const;

/** Reads the probe's JSON line; throws with the output when it is not one. */
export function parseRr(out: string): RrResult {
  const line = out.trim().split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`rr: no result: ${out.trim().slice(0, 200)}`);
  const j = JSON.parse(line) as {
    transactions: number;
    seconds: number;
    p50us: number;
    p99us: number;
  };
  if (!(j.seconds > 0) || !(j.transactions > 0)) throw new Error(`rr: empty run: ${line}`);
  return { tps: j.transactions / j.seconds, p50Us: j.p50us, p99Us: j.p99us };
}

/** `seconds` of request/response with `bytes`-byte messages from `ep.client` to `ep.dst`. */
export async function requestResponse(
  ep: Endpoints,
  seconds: number,
  bytes: number,
): Promise<RrResult> {
  const bin = await probeBinary("rr");
  const srv = spawn([bin, "server", `${PORT}`], ep.server);
  try {
    if (!await waitFor(() => listening(ep.server, PORT), 5000, 20)) {
      throw new Error(`rr server in ${ep.server} did not start`);
    }
    const r = await run([bin, "client", ep.dst, `${PORT}`, `${seconds}`, `${bytes}`], {
      ns: ep.client,
      check: false,
      timeoutMs: (seconds + 15) * 1000,
    });
    return parseRr(r.stdout + r.stderr);
  } finally {
    await srv.stop("SIGKILL", 500);
  }
}
