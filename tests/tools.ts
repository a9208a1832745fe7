// The outside tools tests drive (tshark, scapy, gcc, Open vSwitch, ...), all installed by
// tests/setup.sh. A test that needs a missing one is ignored with the reason printed, never
// passed; when env CI is set a missing tool is also a failing test of its own, so a CI run
// cannot go green without the oracles.

/** How to tell each tool is usable: a command that must exit 0. */
const PROBES = {
  tshark: ["tshark", "-v"],
  scapy: ["/usr/bin/python3", "-c", "import scapy.contrib.geneve"],
  gcc: ["gcc", "--version"],
  iperf3: ["iperf3", "--version"],
  "ovs-vswitchd": ["ovs-vswitchd", "--version"],
  dhclient: ["sh", "-c", "command -v dhclient"],
  dnsmasq: ["dnsmasq", "--version"],
  radvd: ["sh", "-c", "command -v radvd"],
  rdisc6: ["sh", "-c", "command -v rdisc6"],
  ethtool: ["ethtool", "--version"],
  tcpdump: ["tcpdump", "--version"],
  ping: ["ping", "-V"],
} as const;

/** A tool tests may require. */
export type Tool = keyof typeof PROBES;

/** True when the CI environment variable is set (then a missing tool fails the run). */
export const CI = (Deno.env.get("CI") ?? "") !== "";

const known = new Map<Tool, boolean>();
const reported = new Set<Tool>();

/** True when `tool` runs here (probed once per process). */
export function have(tool: Tool): boolean {
  let ok = known.get(tool);
  if (ok === undefined) {
    const [cmd, ...args] = PROBES[tool];
    try {
      ok = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
    } catch {
      ok = false;
    }
    known.set(tool, ok);
  }
  return ok;
}

/**
 * The `ignore:` value for a test (or step) needing `tools`: true when one is missing, with the
 * reason printed. Call it at module level: under CI it also registers a failing test per
 * missing tool.
 */
export function lacks(what: string, ...tools: Tool[]): boolean {
  const missing = tools.filter((t) => !have(t));
  if (missing.length === 0) return false;
  console.warn(`SKIP ${what}: ${missing.join(", ")} not installed (run tests/setup.sh as root)`);
  for (const t of missing) {
    if (!CI || reported.has(t)) continue;
    reported.add(t);
    Deno.test(`CI: ${t} is installed (tests/setup.sh)`, () => {
      throw new Error(`${t} is missing; CI is set, so tests that need it cannot be skipped`);
    });
  }
  return true;
}
