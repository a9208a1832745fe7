// Faults on real Linux links (root): an underlay veth deleted and re-added, a zone's TAP deleted
// from inside its namespace, a zone's namespace deleted. Each checks that other ports keep
// working, that the loss shows in counters, and what recovery happens without an operator.

import assert from "node:assert/strict";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import type { Change } from "../../lib/config/resources.ts";
import { isRoot, linkNames, sh } from "../link/netns.ts";
import { ping, pingOk } from "../runtime/bed.ts";
import { initialChanges } from "../runtime/fixture.ts";
import {
  ADDR,
  addUnderlay,
  counter,
  dropFaultBed,
  type FaultBed,
  makeFaultBed,
  rackRoute,
  readdZone,
  refresh,
  REMOTE,
  until,
} from "./bed.ts";

const EVENTS = "xdeno_switch_events_total";
const UL_TX = "xdeno_underlay_tx_frames_total";

/** Starts the runtime on a fresh bed and applies the config; runs `fn`, always cleans up. */
async function withBed(fn: (b: FaultBed, dp: AdminDatapath) => Promise<void>): Promise<void> {
  const b = makeFaultBed();
  let dp: AdminDatapath | null = null;
  try {
    dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true, offload: false });
    for (const c of initialChanges(b.config)) await dp.apply(c);
    await fn(b, dp);
  } finally {
    await dp?.close().catch(() => {});
    dropFaultBed(b);
  }
}

/** The port Change of `name` from the config (to re-add a port after a fault). */
function portChange(b: FaultBed, name: string): Change {
  const c = initialChanges(b.config).find((c) => c.kind === "port" && c.key === name);
  assert.ok(c, `no port change for ${name}`);
  return c;
}

/** Background pings (bounded count) from `ns` to `dst`; resolves with replies received. */
function pingRun(ns: string, dst: string, count: number): Promise<number> {
  return new Deno.Command("ip", {
    args: ["netns", "exec", ns, "ping", "-6", "-c", String(count), "-i", "0.05", "-W", "1", dst],
    stdout: "piped",
    stderr: "null",
  }).output().then((r) => {
    const m = new TextDecoder().decode(r.stdout).match(/(\d+) received/);
    return m ? Number(m[1]) : 0;
  });
}

/** Underlay tx counter of config link `name` (labels carry the device or the config name). */
function ulTx(b: FaultBed, dp: AdminDatapath, name: "ul0" | "ul1"): number {
  return counter(dp, UL_TX, "link", b.dev[name]) || counter(dp, UL_TX, "link", name);
}

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "fault: an underlay veth deleted under load moves traffic to the other link",
  ignore: !isRoot("fault underlay"),
  ...opts,
  async fn() {
    await withBed(async (b, dp) => {
      assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack before the fault");
      await refresh(dp);
      const down0 = counter(dp, EVENTS, "event", "next-hop-down");
      const run = pingRun(b.ns.za, REMOTE, 40); // 2 s of pings across the fault
      await new Promise((r) => setTimeout(r, 500));
      sh(["ip", "-n", b.ns.gz, "link", "del", b.dev.ul0]);
      rackRoute(b); // the rack only has ul1's peer left
      const got = await run;
      console.log(`pings answered across the underlay fault: ${got}/40`);
      assert.ok(got >= 20, `pings across the fault: ${got}/40 answered`);
      assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack after the fault");
      assert.ok(await pingOk(b.ns.zb, ADDR.a), "zone-b → zone-a unaffected");
      const noticed = await until(async () => {
        await refresh(dp);
        return counter(dp, EVENTS, "event", "next-hop-down") > down0;
      });
      assert.ok(
        noticed,
        `next-hop-down not counted: ${JSON.stringify(dp.counters().filter((c) => c.value))}`,
      );
      const tx1 = ulTx(b, dp, "ul1");
      assert.ok(await pingOk(b.ns.za, REMOTE));
      await refresh(dp);
      assert.ok(ulTx(b, dp, "ul1") > tx1, "traffic leaves over ul1");
    });
  },
});

Deno.test({
  name: "fault: an underlay link set down and up again leaves and rejoins ECMP",
  ignore: !isRoot("fault underlay down/up"),
  ...opts,
  async fn() {
    await withBed(async (b, dp) => {
      assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack before the fault");
      await refresh(dp);
      const down0 = counter(dp, EVENTS, "event", "next-hop-down");
      const up0 = counter(dp, EVENTS, "event", "next-hop-up");
      sh(["ip", "-n", b.ns.gz, "link", "set", b.dev.ul1, "down"]);
      assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack over ul0 alone");
      assert.ok(
        await until(async () => {
          await refresh(dp);
          return counter(dp, EVENTS, "event", "next-hop-down") > down0;
        }),
        "next-hop-down counted",
      );
      sh(["ip", "-n", b.ns.gz, "link", "set", b.dev.ul1, "up"]);
      // ul1 back: take ul0 down, so only ul1 can carry the pings now.
      assert.ok(
        await until(async () => {
          await refresh(dp);
          return counter(dp, EVENTS, "event", "next-hop-up") > up0;
        }, 5000),
        `next-hop-up not counted: ${JSON.stringify(dp.counters().filter((c) => c.value))}`,
      );
      sh(["ip", "-n", b.ns.gz, "link", "set", b.dev.ul0, "down"]);
      await refresh(dp);
      const tx1 = ulTx(b, dp, "ul1");
      const ok = await pingOk(b.ns.za, REMOTE);
      await refresh(dp);
      const info = {
        ul1TxDelta: ulTx(b, dp, "ul1") - tx1,
        ul1Rx: counter(dp, "xdeno_underlay_rx_frames_total", "link", b.dev.ul1),
        noNextHop: counter(dp, "xdeno_switch_drops_total", "reason", "no-next-hop"),
        rackNeigh: sh(["ip", "-n", b.ns.rack, "-6", "neigh"]).trim(),
        rackRoute: sh(["ip", "-n", b.ns.rack, "-6", "route", "show", "fd00:1::/64"]).trim(),
      };
      assert.ok(ok, `zone-a → rack over the recovered ul1: ${JSON.stringify(info)}`);
      assert.ok(info.ul1TxDelta > 0, "traffic leaves over ul1");
    });
  },
});

Deno.test({
  name: "fault: an underlay veth re-added with the same name carries traffic again",
  // The kernel unbinds the packet socket from the deleted device; the link monitor's NEWLINK
  // with a new ifindex for the name makes PacketLink re-bind (and re-join promisc/allmulti).
  ignore: !isRoot("fault underlay re-add"),
  ...opts,
  async fn() {
    await withBed(async (b, dp) => {
      assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack before the fault");
      sh(["ip", "-n", b.ns.gz, "link", "del", b.dev.ul0]);
      rackRoute(b);
      assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack over ul1");
      await refresh(dp);
      const up0 = counter(dp, EVENTS, "event", "next-hop-up");
      addUnderlay(b, 0);
      // Now take ul1 away: only the re-added ul0 remains.
      await new Promise((r) => setTimeout(r, 300));
      sh(["ip", "-n", b.ns.gz, "link", "del", b.dev.ul1]);
      rackRoute(b);
      await refresh(dp);
      const tx0 = ulTx(b, dp, "ul0");
      const ok = await pingOk(b.ns.za, REMOTE, 8);
      await refresh(dp);
      const info = {
        nextHopUp: counter(dp, EVENTS, "event", "next-hop-up") - up0,
        ul0TxDelta: ulTx(b, dp, "ul0") - tx0,
        ul0RxErrors: counter(dp, "xdeno_underlay_rx_errors_total", "link", b.dev.ul0),
        ul0TxErrors: counter(dp, "xdeno_underlay_tx_errors_total", "link", b.dev.ul0),
        ul0TxDropped: counter(dp, "xdeno_underlay_tx_dropped_total", "link", b.dev.ul0),
        noNextHop: counter(dp, "xdeno_switch_drops_total", "reason", "no-next-hop"),
      };
      assert.ok(ok, `zone-a → rack over the re-added ul0 failed: ${JSON.stringify(info)}`);
      assert.ok(info.nextHopUp > 0, `next-hop-up not counted: ${JSON.stringify(info)}`);
    });
  },
});

/** CPU time of this process (all threads, the worker's loop included) in ms. */
function cpuMs(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, USER_HZ = 100
}

/** CPU ms this process burns per wall second over `ms`, sleeping meanwhile. */
async function cpuLoad(ms = 1000): Promise<number> {
  const c0 = cpuMs(), t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (cpuMs() - c0) / ((performance.now() - t0) / 1000);
}

/**
 * A zone's port lost from under the switch (`fault` removes its TAP one way or another): the
 * others keep talking, the loss is visible, the loop does not spin, the port can be re-added.
 */
async function lostPort(
  b: FaultBed,
  dp: AdminDatapath,
  fault: () => void,
  strict: boolean,
): Promise<void> {
  assert.ok(await pingOk(b.ns.za, ADDR.b), "zone-a → zone-b before");
  const idle = await cpuLoad(500);
  await refresh(dp);
  const drops0 = dp.portStatus(b.port.a)!.counters.drops;
  fault();
  assert.ok(await pingOk(b.ns.zb, ADDR.c), "zone-b → zone-c still works");
  assert.ok(await pingOk(b.ns.zc, ADDR.gz), "zone-c → GZ still works");
  assert.ok(await pingOk(b.ns.zc, REMOTE), "zone-c → rack still works");
  const issues: string[] = [];
  // Answered means the old zone's stack still lives (something holds its namespace open).
  if (await ping(b.ns.zb, ADDR.a, 1)) issues.push("the lost zone-a still answers zone-b");
  // CPU is measured for the whole process, which `deno test --parallel` shares with other test
  // files, so the check is only meaningful alone: `deno task faults` sets XDENO_FAULTS_CPU=1. In
  // the full suite the error count below is what catches a read loop on a dead fd.
  const cpuCheck = Deno.env.get("XDENO_FAULTS_CPU") === "1";
  let lostLoad = 0;
  if (cpuCheck) {
    lostLoad = Infinity;
    for (let i = 0; i < 3; i++) lostLoad = Math.min(lostLoad, await cpuLoad(400));
  }
  await refresh(dp);
  const st = dp.portStatus(b.port.a)!;
  if (st.link.up) issues.push("the lost port is still reported up");
  const drops = st.counters.drops - drops0;
  if (drops === 0) issues.push("the loss is not counted");
  // A dead fd polled in a loop (POLLERR, EBADFD) must not burn a core.
  if (lostLoad > idle + 300) {
    issues.push(`CPU ${lostLoad.toFixed(0)} ms/s after the loss (idle ${idle.toFixed(0)})`);
  }
  // A read loop on a dead fd counts an error per turn (200-300k in 3 s before the fix).
  if (drops > 100) issues.push(`${drops} errors counted in ~3 s (a read loop on a dead fd)`);
  // Recovery through the datapath: remove the port and add it again.
  await dp.apply({ kind: "port", key: b.port.a, value: null });
  await dp.apply(portChange(b, b.port.a));
  assert.ok(linkNames(b.ns.za).includes(b.port.a), "the TAP is back");
  assert.ok(await pingOk(b.ns.za, ADDR.b), "zone-a → zone-b after re-adding");
  assert.ok(await pingOk(b.ns.zc, ADDR.a), "zone-c → zone-a after re-adding");
  assert.ok(await pingOk(b.ns.za, REMOTE), "zone-a → rack after re-adding");
  if (strict) assert.deepEqual(issues, [], `status ${JSON.stringify(st)}`);
  else if (issues.length) console.warn(`known defects: ${issues.join("; ")}`);
}

const delTap = (b: FaultBed) => () => void sh(["ip", "-n", b.ns.za, "link", "del", b.port.a]);
const delZone = (b: FaultBed) => () => {
  sh(["ip", "netns", "del", b.ns.za]);
  readdZone(b.ns.za); // the zone comes back empty (a rebooted zone)
};

const LOST: [string, (b: FaultBed) => () => void][] = [
  ["TAP deleted inside it", delTap],
  ["namespace deleted", delZone],
];

for (const [what, fault] of LOST) {
  Deno.test({
    name: `fault: a zone's ${what}; the others keep talking; re-adding the port works`,
    ignore: !isRoot(`fault zone ${what}`),
    ...opts,
    async fn() {
      await withBed((b, dp) => lostPort(b, dp, fault(b), false));
    },
  });

  Deno.test({
    name: `fault: a zone's ${what}; the loss is reported and the loop does not spin`,
    // Guards issue 10: a deleted TAP's fd (EBADFD, POLLERR) was read in a loop and the port
    // stayed "up"; a deleted namespace lived on, pinned by the port's netlink/ioctl sockets.
    ignore: !isRoot(`fault zone ${what} (strict)`),
    ...opts,
    async fn() {
      await withBed((b, dp) => lostPort(b, dp, fault(b), true));
    },
  });
}
