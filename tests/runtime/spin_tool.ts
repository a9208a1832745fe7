// What the adaptive busy polling costs and buys, zone → zone through the runtime (root): for each
// `datapath.busyPollUs` given, the process CPU while idle (no traffic at all), and ping's RTT
// and the process CPU while a ping arrives every `gapMs` ms. Usage:
//   npx deno run -A tests/runtime/spin_tool.ts [busyPollUs,…=0,2000] [seconds=3] [gapMs=1]
// Each value gets its own bed and datapath Worker; CPU is utime+stime of this process (the
// Worker is a thread of it) per second of wall time.

import { startRuntime } from "../../lib/runtime/mod.ts";
import { dropBed, makeBed, pingOk } from "./bed.ts";
import { initialChanges } from "./fixture.ts";

const caps = (Deno.args[0] ?? "0,2000").split(",").map(Number);
const secs = Number(Deno.args[1] ?? 3), gapMs = Number(Deno.args[2] ?? 1);

/** CPU ms this process used so far (utime + stime, USER_HZ = 100). */
function cpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** CPU ms per wall second while `work` runs. */
async function load<T>(work: () => Promise<T>): Promise<[number, T]> {
  const c = cpuMs(), t = performance.now();
  const r = await work();
  return [(cpuMs() - c) / ((performance.now() - t) / 1000), r];
}

/** ping's RTT median and p99, µs. */
async function rtt(ns: string, dst: string): Promise<[number, number]> {
  const count = Math.round(secs * 1000 / gapMs);
  const verbose = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, "ping", "-6", "-c", `${count}`, "-i", `${gapMs / 1000}`]
      .concat(["-W", "1", dst]),
    stdout: "piped",
  }).output();
  if (!verbose.success) throw new Error("ping failed");
  const times = [...new TextDecoder().decode(verbose.stdout).matchAll(/time=([\d.]+) ms/g)]
    .map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return [at(0.5), at(0.99)];
}

for (const cap of caps) {
  const b = makeBed();
  try {
    const dp = await startRuntime(b.config, { gzNetns: b.ns.gz, busyPollUs: cap });
    try {
      for (const c of initialChanges(b.config)) await dp.apply(c);
      if (!await pingOk(b.ns.za, "fd00:1::11")) throw new Error("no connectivity");
      await new Promise((r) => setTimeout(r, 500));
      const [idle] = await load(() => new Promise((r) => setTimeout(r, secs * 1000)));
      const [busy, [p50, p99]] = await load(() => rtt(b.ns.za, "fd00:1::11"));
      console.log(
        `busyPollUs=${cap}: idle CPU ${idle.toFixed(0)} ms/s; ping every ${gapMs} ms: RTT p50 ` +
          `${p50.toFixed(0)} µs p99 ${p99.toFixed(0)} µs, CPU ${busy.toFixed(0)} ms/s`,
      );
    } finally {
      await dp.close();
    }
  } finally {
    dropBed(b);
  }
}
