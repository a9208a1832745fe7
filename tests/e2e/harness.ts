// Shared by the e2e tests: the switch under test (xdeno by default), why the tests are skipped,
// a topology with the switch running (torn down whatever happens), and the assertions every path
// makes: pings all answered, a TCP transfer that moved data until its end.
import assert from "node:assert/strict";
import { isRoot } from "../../lib/testbed/exec.ts";
import { lacks } from "../tools.ts";
import { Endpoints, tcpThroughput } from "../../lib/testbed/measure.ts";
import { loadSwitchUnderTest } from "../../lib/testbed/sut.ts";
import { Topology, up } from "../../lib/testbed/topology.ts";
import { Check, formatResults, verify } from "../../lib/testbed/verify.ts";

/** The switch under test (XDENO_BENCH_SUT, else xdeno through lib/testbed/xdeno_runner.ts). */
export const sut = await loadSwitchUnderTest();

/** Why the e2e tests cannot run here (printed once), or undefined. */
export async function e2eSkip(): Promise<string | undefined> {
  let why = !isRoot() ? "not root" : undefined;
  const tools = ["iperf3", "tshark", "ovs-vswitchd", "dhclient", "rdisc6", "ethtool"] as const;
  if (!why && lacks("tests/e2e", ...tools)) why = "a tool is missing (tests/setup.sh)";
  why ??= await sut.unavailable();
  if (why) console.warn(`tests/e2e: skipped: ${why}`);
  return why;
}

/** Builds the switch's topology, starts it, runs `fn`, and tears everything down. */
export async function withSwitch(fn: (t: Topology) => Promise<void>): Promise<void> {
  const t = await up(sut.topology);
  try {
    const sw = await sut.start(t);
    try {
      await fn(t);
    } finally {
      await sw.stop();
    }
  } finally {
    await t.down();
  }
}

/** Runs the checks in parallel and fails with the whole table when any fails. */
export async function assertReachable(t: Topology, checks: Check[]): Promise<void> {
  const res = await verify(t, checks);
  assert.ok(res.every((r) => r.ok), `\n${formatResults(res)}`);
}

/** A TCP transfer of `seconds` that carried data and was still moving in its last second. */
export async function assertTcp(ep: Endpoints, seconds = 2, streams = 1): Promise<void> {
  const r = await tcpThroughput(ep, seconds, streams);
  assert.ok(r.bytes > 1e6, `${ep.client} → ${ep.dst}: only ${r.bytes} bytes`);
  assert.ok(r.lastIntervalGbps > 0, `${ep.client} → ${ep.dst}: stalled at the end`);
}
