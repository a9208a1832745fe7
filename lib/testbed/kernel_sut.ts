// A stand-in "switch under test" whose switch is the Linux kernel (the kernel-mode topology):
// exercises the harness's and the e2e tests' xdeno plumbing before xdeno can run
// (`XDENO_BENCH_SUT=lib/testbed/kernel_sut.ts deno task bench:e2e …`). Its figures are the
// kernel's, labelled as the xdeno rows: never report them as xdeno's.

import { SwitchUnderTest } from "./sut.ts";

/** The kernel stand-in. */
export const sut: SwitchUnderTest = {
  name: "kernel-stand-in",
  topology: { mode: "kernel", txOffload: false },
  geneve: false,
  unavailable: () => Promise.resolve(undefined),
  start: () => Promise.resolve({ pids: () => Promise.resolve([]), stop: () => Promise.resolve() }),
};
