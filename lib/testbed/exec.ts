// Process helpers for the test bed. Shelling out to `ip`, `ovs-vsctl` etc. is fine here: the
// test bed builds the world xdeno runs in, it is not xdeno's own plumbing.

/** Result of one finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for `run`. */
export interface RunOptions {
  /** Network namespace to run in (through `ip netns exec`). */
  ns?: string;
  /** Text written to stdin. */
  input?: string;
  /** Throw on non-zero exit (default true). */
  check?: boolean;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Kill after this many milliseconds. */
  timeoutMs?: number;
}

/** A command that exited non-zero, with what it printed. */
export class CommandError extends Error {
  constructor(readonly argv: string[], readonly result: RunResult) {
    super(
      `command failed (exit ${result.code}): ${argv.join(" ")}\n${result.stderr.trim()}`,
    );
  }
}

const dec = new TextDecoder();

/** argv prefixed so it runs inside `ns` (or unchanged without one). */
export function inNs(ns: string | undefined, argv: string[]): string[] {
  return ns ? ["ip", "netns", "exec", ns, ...argv] : argv;
}

/** Runs argv to completion and returns its output; throws CommandError unless `check: false`. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNs(opts.ns, argv);
  const cmd = new Deno.Command(full[0], {
    args: full.slice(1),
    stdin: opts.input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
  });
  const child = cmd.spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.timeoutMs);
  }
  if (opts.input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.input));
    await w.close();
  }
  const out = await child.output();
  if (timer !== undefined) clearTimeout(timer);
  const result = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if (opts.check !== false && result.code !== 0) throw new CommandError(full, result);
  return result;
}

/** Runs argv and returns true when it exited 0. */
export async function ok(argv: string[], opts: RunOptions = {}): Promise<boolean> {
  return (await run(argv, { ...opts, check: false })).code === 0;
}

/** A background process started by the test bed; stop it by its own pid only. */
export class Background {
  #out: Promise<Deno.CommandOutput>;
  #done = false;
  constructor(readonly argv: string[], readonly child: Deno.ChildProcess) {
    this.#out = child.output();
    this.#out.finally(() => this.#done = true).catch(() => {});
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** True once the process has exited. */
  get exited(): boolean {
    return this.#done;
  }

  /** Waits for exit and returns its output. */
  async wait(): Promise<RunResult> {
    const out = await this.#out;
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** Sends `signal` (if still running) and waits for exit, escalating to SIGKILL after `graceMs`. */
  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 2000): Promise<RunResult> {
    if (!this.#done) {
      try {
        this.child.kill(signal);
      } catch { /* already gone */ }
      const t = setTimeout(() => {
        try {
          if (!this.#done) this.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, graceMs);
      try {
        return await this.wait();
      } finally {
        clearTimeout(t);
      }
    }
    return await this.wait();
  }
}

/** Starts argv in the background (in `ns` when given), output collected for `wait()`. */
export function spawn(argv: string[], ns?: string, env?: Record<string, string>): Background {
  const full = inNs(ns, argv);
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  return new Background(full, child);
}

/** True when running as root (uid 0). */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** True when `name` is an executable on PATH. */
export async function have(name: string): Promise<boolean> {
  return await ok(["sh", "-c", `command -v ${name}`]);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` every `stepMs` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs = 5000,
  stepMs = 50,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= end) return false;
    await sleep(stepMs);
  }
}
