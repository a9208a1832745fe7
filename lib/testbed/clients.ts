// Real address-configuration clients inside a namespace: DHCPv4 and DHCPv6 (isc dhclient) and
// SLAAC (the kernel, prodded with rdisc6). They check what xdeno's gateway hands out.

import { run, RunResult, waitFor } from "./exec.ts";
import { GW_LL, stateDir } from "./plan.ts";

/** What a client obtained. */
export interface Lease {
  ok: boolean;
  /** Address with prefix length, e.g. "172.30.0.5/22". */
  address?: string;
  /** Default router the client installed (or that advertised itself), when any. */
  router?: string;
  /** What else the client learnt, for people (e.g. "managed, MTU 1500"). */
  note?: string;
  log: string;
}

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope: string;
  dynamic?: boolean;
}

async function addrs(ns: string, iface: string): Promise<AddrInfo[]> {
  const r = await run(["ip", "-j", "addr", "show", "dev", iface], { ns });
  return (JSON.parse(r.stdout)[0]?.addr_info ?? []) as AddrInfo[];
}

async function defaultRouter(ns: string, fam: "-4" | "-6"): Promise<string | undefined> {
  const r = await run(["ip", "-j", fam, "route", "show", "default"], { ns, check: false });
  return r.code === 0
    ? (JSON.parse(r.stdout || "[]")[0]?.gateway as string | undefined)
    : undefined;
}

/**
 * dhclient-script rewrites /etc/resolv.conf; `ip netns exec` bind-mounts /etc/netns/<ns>/* over
 * /etc, so a private file there keeps the host's untouched. Removed by `releaseNetnsEtc`.
 */
async function privateResolvConf(ns: string): Promise<void> {
  await Deno.mkdir(`/etc/netns/${ns}`, { recursive: true });
  await Deno.writeTextFile(`/etc/netns/${ns}/resolv.conf`, "");
}

/** Removes the /etc/netns/<ns> directories the clients created. */
export async function releaseNetnsEtc(namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    await Deno.remove(`/etc/netns/${ns}`, { recursive: true }).catch(() => {});
  }
  await Deno.remove("/etc/netns").catch(() => {}); // only when empty: others may use it
}

async function dhclient(ns: string, iface: string, fam: "-4" | "-6", timeoutS: number) {
  const dir = `${stateDir(ns.split("-")[0])}/dhclient/${ns}${fam}`;
  await Deno.mkdir(dir, { recursive: true });
  await privateResolvConf(ns);
  const pf = `${dir}/pid`;
  const r: RunResult = await run(
    [
      "timeout",
      `${timeoutS}`,
      "dhclient",
      fam,
      "-v",
      "-1",
      "-pf",
      pf,
      "-lf",
      `${dir}/leases`,
      iface,
    ],
    { ns, check: false },
  );
  // On success dhclient stays in the background to renew: stop it by its own pidfile.
  const pid = Number((await Deno.readTextFile(pf).catch(() => "")).trim());
  if (pid > 0) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* gone */ }
  }
  return r;
}

/** DHCPv4 on `iface` in `ns`: the leased address and the default router it installed. */
export async function dhcp4(ns: string, iface = "eth0", timeoutS = 20): Promise<Lease> {
  const r = await dhclient(ns, iface, "-4", timeoutS);
  const a = (await addrs(ns, iface)).find((x) => x.family === "inet");
  return {
    ok: r.code === 0 && a !== undefined,
    address: a && `${a.local}/${a.prefixlen}`,
    router: await defaultRouter(ns, "-4"),
    log: r.stderr,
  };
}

/** DHCPv6 (stateful) on `iface` in `ns`: the leased global address. */
export async function dhcp6(ns: string, iface = "eth0", timeoutS = 20): Promise<Lease> {
  const r = await dhclient(ns, iface, "-6", timeoutS);
  const a = (await addrs(ns, iface)).find((x) =>
    x.family === "inet6" && x.scope === "global" && x.prefixlen === 128
  );
  return { ok: r.code === 0 && a !== undefined, address: a && `${a.local}/128`, log: r.stderr };
}

/**
 * SLAAC: asks for a router advertisement (rdisc6 sends an RS and prints the RA) and waits until
 * the kernel has configured an autonomous address and a default route from it.
 */
export async function slaac(ns: string, iface = "eth0", timeoutS = 10): Promise<Lease> {
  await run(["sysctl", "-qw", `net.ipv6.conf.${iface}.accept_ra=2`], { ns });
  const ra = await run(["rdisc6", "-1", "-w", "2000", iface], { ns, check: false });
  let found: AddrInfo | undefined;
  await waitFor(
    async () => {
      found = (await addrs(ns, iface)).find((x) =>
        x.family === "inet6" && x.scope === "global" && x.dynamic === true && x.prefixlen === 64
      );
      return found !== undefined && (await defaultRouter(ns, "-6")) !== undefined;
    },
    timeoutS * 1000,
    100,
  );
  return {
    ok: ra.code === 0 && found !== undefined,
    address: found && `${found.local}/64`,
    router: await defaultRouter(ns, "-6"),
    log: ra.stdout + ra.stderr,
  };
}

/**
 * Solicits a router advertisement with rdisc6: it must come from the gateway link-local and say
 * "managed" (addresses by DHCPv6, as OPTE does; no prefix for SLAAC).
 */
export async function routerAdvert(ns: string, iface = "eth0"): Promise<Lease> {
  const r = await run(["rdisc6", "-1", "-w", "1000", iface], { ns, check: false });
  const ok = r.code === 0 && r.stdout.includes(`from ${GW_LL}`) &&
    /Stateful address conf\.\s*:\s*Yes/.test(r.stdout);
  const mtu = r.stdout.match(/MTU\s*:\s*(\d+)/)?.[1];
  const note = ok ? `managed, MTU ${mtu}` : undefined;
  return { ok, router: ok ? GW_LL : undefined, note, log: r.stdout };
}
