// The runtime on real Linux links (root): a throwaway "gz" namespace holds the host port and
// the underlay veth to a "rack" namespace (a Linux router); two system zones are namespaces
// whose TAP ports the runtime creates. Kernel pings prove NDP, forwarding and checksums; after
// close() nothing the runtime made is left.

import assert from "node:assert/strict";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { isRoot, linkNames, sh } from "../link/netns.ts";
import { dropBed, iperf, makeBed, ping, pingOk, plumbGuest } from "./bed.ts";
import { initialChanges } from "./fixture.ts";

Deno.test({
  name: "linux runtime: zone↔zone, zone↔GZ over the host port, zone→rack; close() cleans up",
  ignore: !isRoot("linux runtime"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const b = makeBed();
    let dp: AdminDatapath | null = null;
    try {
      dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true, offload: false });
      for (const c of initialChanges(b.config)) await dp.apply(c);
      const { u, ns } = b;
      assert.ok(linkNames(ns.za).includes(`${u}a`), "zone-a has its port");
      assert.ok(linkNames(ns.gz).includes(`${u}x`), "the GZ has the host port");
      assert.ok(await pingOk(ns.za, "fd00:1::11"), "zone-a → zone-b");
      assert.ok(await pingOk(ns.zb, "fd00:1::10"), "zone-b → zone-a");
      assert.ok(await pingOk(ns.za, "fd00:1::1"), "zone-a → GZ");
      assert.ok(await pingOk(ns.gz, "fd00:1::11"), "GZ → zone-b");
      assert.ok(await pingOk(ns.za, "fd00:2::10"), "zone-a → rack");
      assert.ok(await pingOk(ns.gz, "fd00:2::10"), "GZ → rack");
      const st = dp.portStatus(`${u}a`);
      assert.equal(st?.link.kind, "tap");
      await dp.close();
      dp = null;
      assert.ok(!linkNames(ns.za).includes(`${u}a`), "zone-a's port is gone");
      assert.ok(!linkNames(ns.zb).includes(`${u}b`), "zone-b's port is gone");
      assert.ok(!linkNames(ns.gz).includes(`${u}x`), "the host port is gone");
      assert.ok(linkNames(ns.gz).includes(`${u}u0`), "the underlay link is not ours to delete");
      const routes = sh(["ip", "-n", ns.gz, "-6", "route", "show"]);
      assert.ok(!routes.includes("fd00::/16"), `routes left behind: ${routes}`);
    } finally {
      await dp?.close().catch(() => {});
      dropBed(b);
    }
  },
});

Deno.test({
  name: "linux runtime with offload: TCP with partial checksums and TSO super-frames",
  ignore: !isRoot("linux runtime offload"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const b = makeBed();
    let dp: AdminDatapath | null = null;
    try {
      dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true, offload: true });
      for (const c of initialChanges(b.config)) await dp.apply(c);
      const { u, ns } = b;
      assert.ok(await pingOk(ns.za, "fd00:1::11"), "zone-a → zone-b");
      assert.ok(await pingOk(ns.za, "fd00:2::10"), "zone-a → rack");
      // The rack's veth keeps tx offload on: its partial checksums must be finished by the
      // far end, which only works when virtio-net headers cross the switch.
      assert.ok((await iperf(ns.zb, ns.za, "fd00:1::11")) > 0, "TCP zone-a → zone-b");
      assert.ok((await iperf(ns.rack, ns.za, "fd00:2::10")) > 0, "TCP zone-a → rack");
      await (dp as { refresh?(): Promise<void> }).refresh?.();
      const st = dp.portStatus(`${u}b`)!;
      // Frames bigger than the 1500-byte MTU reached zone-b whole (segmented by its kernel).
      assert.ok(
        st.counters.tx_bytes / st.counters.tx_frames > 1514,
        `average frame ${st.counters.tx_bytes / st.counters.tx_frames} bytes`,
      );
    } finally {
      await dp?.close().catch(() => {});
      dropBed(b);
    }
  },
});

Deno.test({
  name: "linux runtime: instances in their namespaces reach each other through the VPC",
  ignore: !isRoot("linux runtime instances"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const b = makeBed({ instances: true });
    let dp: AdminDatapath | null = null;
    try {
      dp = await startRuntime(b.config, { gzNetns: b.ns.gz, worker: true });
      for (const c of initialChanges(b.config)) await dp.apply(c);
      const { u, ns } = b;
      plumbGuest(ns.va!, `${u}va`, "172.30.0.10");
      plumbGuest(ns.vb!, `${u}vb`, "172.30.0.11");
      assert.ok(await pingOk(ns.va!, "172.30.0.11"), "vm-a → vm-b");
      assert.ok(await pingOk(ns.vb!, "172.30.0.10"), "vm-b → vm-a");
      // ICMP denied in at vm-a: a new ping from vm-b (a new flow) dies at vm-a's firewall.
      await dp.apply({
        kind: "firewall",
        key: `${u}va`,
        value: [{
          id: 0,
          direction: "in",
          priority: 10,
          action: "deny",
          protocol: "icmp",
          host: "any",
        }],
      });
      assert.ok(!await ping(ns.vb!, "172.30.0.10"), "vm-b → vm-a is denied now");
      assert.ok(await pingOk(ns.va!, "172.30.0.11"), "vm-a → vm-b still works (stateful)");
      await dp.apply({ kind: "port", key: `${u}vb`, value: null });
      assert.ok(!linkNames(ns.vb!).includes(`${u}vb`), "vm-b's TAP went with its port");
      await dp.close();
      dp = null;
      assert.ok(!linkNames(ns.va!).includes(`${u}va`), "vm-a's TAP is gone");
    } finally {
      await dp?.close().catch(() => {});
      dropBed(b);
    }
  },
});
