// Guests without offload receive GSO frames (root, real kernels): with the runtime's offload off
// the TAPs still carry virtio-net headers (TUNSETOFFLOAD 0: the guests send plain frames), so
// large segments from the other sled and GRO trains between zones reach the guest as one frame
// each. The receiving kernels are the judge: a seeded stream's SHA-256 matches at the far end and
// TcpInCsumErrors stays 0; the switch's counters show GSO delivery and nothing cut for the guest.

import assert from "node:assert/strict";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { run, sleep, spawn } from "../../lib/testbed/exec.ts";
import { delNetns, isRoot, kernelCounter, sh, uniq } from "../link/netns.ts";
import { streamClient, streamServer } from "../link/stream.ts";
import { dropBed, makeBed, pingOk, plumbGuest, switchEvent, switchEventAtLeast } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
import { twoSleds } from "./sleds.ts";

const PORT = 5602, MB = 24;
const opts = { ignore: !isRoot("GSO to guests without offload"), sanitizeResources: false };

/** Moves the seeded stream from `client` to `dst` in `server`; both ends' hashes must match. */
async function sameBytes(client: string, server: string, dst: string): Promise<void> {
  const srv = spawn(["python3", "-c", streamServer(dst, PORT)], server);
  try {
    await sleep(500);
    const sent = await run(["python3", "-c", streamClient(dst, PORT, MB)], {
      ns: client,
      timeoutMs: 60000,
    });
    const got = await srv.wait();
    assert.equal(got.stdout.trim(), sent.stdout.trim(), `${client} → ${dst}: ${got.stderr}`);
    assert.match(sent.stdout, new RegExp(`^${MB << 20} [0-9a-f]{64}`));
  } finally {
    await srv.stop();
  }
}

/** The guest's own side of its TAP has no tx checksum offload (it sends plain frames). */
function assertRaw(ns: string, dev: string): void {
  const k = sh(["ip", "netns", "exec", ns, "ethtool", "-k", dev]);
  assert.match(k, /^tx-checksumming: off/m, `${dev} in ${ns} offloads`);
  assert.match(k, /^tcp-segmentation-offload: off/m, `${dev} in ${ns} does TSO`);
}

Deno.test({
  ...opts,
  name: "raw gso: vm → sled2 vm, both without offload: large segments arrive as GSO frames",
  async fn() {
    const u = uniq();
    const { ns, configs } = twoSleds(u);
    const dps: AdminDatapath[] = [];
    try {
      for (const i of [0, 1]) {
        const dp = await startRuntime(configs[i], { gzNetns: ns[i], offload: false });
        dps.push(dp);
        for (const c of initialChanges(configs[i])) await dp.apply(c);
      }
      plumbGuest(ns[2], `${u}v1`, "172.30.0.10");
      plumbGuest(ns[3], `${u}v2`, "172.30.0.11");
      assertRaw(ns[2], `${u}v1`);
      assertRaw(ns[3], `${u}v2`);
      assert.ok(await pingOk(ns[2], "172.30.0.11"), "vm1 → vm2");
      const errors = kernelCounter(ns[3], "TcpInCsumErrors");
      await sameBytes(ns[2], ns[3], "172.30.0.11");
      assert.equal(kernelCounter(ns[3], "TcpInCsumErrors") - errors, 0, "bad checksums in vm2");
      assert.ok(
        await switchEventAtLeast(dps[0], "gro-out", 101) > 100,
        "sled 1 sent large segments",
      );
      const gso = await switchEventAtLeast(dps[1], "gso-delivered", 101);
      console.log(`  sled 2: ${gso} large segments delivered as GSO frames`);
      assert.ok(gso > 100, "sled 2 delivered GSO frames to the raw vm");
      assert.equal(switchEvent(dps[1], "large-segment-split"), 0, "nothing cut for the vm");
    } finally {
      for (const dp of dps) await dp.close().catch(() => {});
      for (const n of ns) delNetns(n);
    }
  },
});

Deno.test({
  ...opts,
  name: "raw gso: zone → zone without offload: trains arrive as GSO frames",
  async fn() {
    const b = makeBed();
    let dp: AdminDatapath | null = null;
    try {
      dp = await startRuntime(b.config, { gzNetns: b.ns.gz, offload: false });
      for (const c of initialChanges(b.config)) await dp.apply(c);
      assertRaw(b.ns.za, `${b.u}a`);
      assertRaw(b.ns.zb, `${b.u}b`);
      assert.ok(await pingOk(b.ns.za, "fd00:1::11"), "zone-a → zone-b");
      const errors = kernelCounter(b.ns.zb, "TcpInCsumErrors");
      await sameBytes(b.ns.za, b.ns.zb, "fd00:1::11");
      assert.equal(kernelCounter(b.ns.zb, "TcpInCsumErrors") - errors, 0, "bad checksums");
      const merged = await switchEventAtLeast(dp, "gro-merged", 1001);
      console.log(`  ${merged} segments merged into GSO frames`);
      assert.ok(merged > 1000, "segments reached zone-b merged");
    } finally {
      await dp?.close().catch(() => {});
      dropBed(b);
    }
  },
});
