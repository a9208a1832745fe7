// Shared by the e2e tests: the switch under test, why the tests are skipped, and a topology with
// the switch running, torn down whatever happens.
import { have, isRoot } from "../../lib/testbed/exec.ts";
import { loadSwitchUnderTest } from "../../lib/testbed/sut.ts";
import { Topology, up } from "../../lib/testbed/topology.ts";

/** The switch under test (XDENO_BENCH_SUT, else the "not yet runnable" placeholder). */
export const sut = await loadSwitchUnderTest();

/** Why the e2e tests cannot run here (printed once), or undefined. */
export async function e2eSkip(): Promise<string | undefined> {
  const why = !isRoot()
    ? "not root"
    : !await have("iperf3")
    ? "iperf3 missing (tests/setup.sh)"
    : await sut.unavailable();
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
