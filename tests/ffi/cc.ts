// Test helper: compile small C programs and shared libraries with gcc into a temp directory.
import { lacks } from "../tools.ts";

/** True when gcc works here (tests that need it are ignored otherwise, with the reason). */
export function haveGcc(): boolean {
  return !lacks("C layout/shim tests", "gcc");
}

/** Runs gcc with `args`; throws with gcc's message on failure. */
export function gcc(args: string[]): void {
  const r = new Deno.Command("gcc", { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!r.success) throw new Error(`gcc ${args.join(" ")}:\n${new TextDecoder().decode(r.stderr)}`);
}

/** Compiles `source` as a program, runs it, returns its stdout. */
export function compileAndRun(source: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "xdt-cc-" });
  try {
    Deno.writeTextFileSync(`${dir}/p.c`, source);
    gcc(["-O0", "-Wall", "-o", `${dir}/p`, `${dir}/p.c`]);
    const r = new Deno.Command(`${dir}/p`, { stdout: "piped", stderr: "piped" }).outputSync();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    return new TextDecoder().decode(r.stdout);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Builds a shared library from `sourcePath` into a new temp dir; returns its path and dir. */
export function buildShared(
  sourcePath: string,
  extra: string[] = [],
): { lib: string; dir: string } {
  const dir = Deno.makeTempDirSync({ prefix: "xdt-so-" });
  const lib = `${dir}/lib.so`;
  gcc(["-O2", "-Wall", "-shared", "-fPIC", "-o", lib, sourcePath, ...extra]);
  return { lib, dir };
}
