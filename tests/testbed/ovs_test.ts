// Root only: Open vSwitch userspace datapath plugged into the switch-mode topology.
import assert from "node:assert/strict";
import { isRoot, run } from "../../lib/testbed/exec.ts";
import { startBoundary } from "../../lib/testbed/boundary.ts";
import { Capture, checkGeneve, dissectGeneve } from "../../lib/testbed/capture.ts";
import { startOvsL2, startOvsSleds } from "../../lib/testbed/ovs.ts";
import { BOUNDARY_UL, EXTERNAL_IP, GW_MAC, stateDir, VPC_VNI } from "../../lib/testbed/plan.ts";
import { up } from "../../lib/testbed/topology.ts";
import { formatResults, ovsChecks, ping, verify } from "../../lib/testbed/verify.ts";
import { lacks } from "../tools.ts";

const ready = isRoot() && !lacks("tests/testbed/ovs_test.ts", "ovs-vswitchd");
if (!isRoot()) console.warn("SKIP tests/testbed/ovs_test.ts: needs root");

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

for (const portType of ["system", "afxdp"] as const) {
  Deno.test({
    name: `ovs (root): netdev L2 bridge with ${portType} ports carries zone and VM pings`,
    ignore: !ready,
    async fn() {
      const t = await up({ mode: "switch" });
      try {
        const ovs = await startOvsL2(t, portType);
        const pids = await ovs.pids();
        try {
          assert.equal(pids.length, 2);
          const [s1] = t.plan.sleds;
          const res = await verify(t, [
            ping("zone-a → zone-b", s1.zones[0].ns, s1.zones[1].ip6),
            ping("vm0 → vm1", s1.vms[0].ns, s1.vms[1].ip4),
          ]);
          assert.ok(res.every((r) => r.ok), formatResults(res));
          const ports = (await ovs.instances[0].vsctl("list-ports", "br-int")).stdout.split("\n");
          assert.deepEqual(ports.filter((p) => p).sort(), ["vvm0", "vvm1", "vza", "vzb"]);
          const type = await ovs.instances[0].vsctl("get", "interface", "vza", "type");
          assert.equal(type.stdout.trim(), portType === "system" ? '""' : "afxdp");
        } finally {
          await ovs.stop();
        }
        for (const pid of pids) assert.ok(!alive(pid), `ovs pid ${pid} stopped`);
      } finally {
        await t.down();
      }
    },
  });
}

Deno.test({
  name: "ovs (root): Geneve between two OVS sleds, VNI 10 on the rack link",
  ignore: !ready,
  async fn() {
    const t = await up({ mode: "switch" });
    try {
      const ovs = await startOvsSleds(t, { portType: "system" });
      try {
        const [s1] = t.plan.sleds;
        // Capture for as long as the checks take (a fixed window closed too early on a loaded
        // machine), then read the file back with tshark.
        await Deno.mkdir(stateDir(t.plan.prefix), { recursive: true });
        const cap = await Capture.start(
          s1.uplinks[0].rack,
          "s1",
          "udp port 6081",
          `${stateDir(t.plan.prefix)}/ovs-geneve.pcap`,
        );
        let file: string;
        try {
          const res = await verify(t, ovsChecks(t.plan));
          assert.ok(res.every((r) => r.ok), formatResults(res));
        } finally {
          file = await cap.stop();
        }
        const out = await run([
          "tshark",
          "-r",
          file,
          "-T",
          "fields",
          "-e",
          "ipv6.src",
          "-e",
          "ipv6.dst",
          "-e",
          "geneve.vni",
          "-e",
          "ip.dst",
        ]);
        const rows = out.stdout.trim().split("\n").map((l) => l.split("\t"));
        const toS2 = rows.filter((r) => r[3] === t.plan.sleds[1].vms[0].ip4);
        assert.ok(toS2.length >= 1, `Geneve to sled2 vm0 seen on rack0 s1: ${out.stdout}`);
        for (const r of toS2) {
          assert.deepEqual(r.slice(0, 2), [s1.host, t.plan.sleds[1].host]);
          assert.equal(Number(r[2]), VPC_VNI);
        }
      } finally {
        await ovs.stop();
      }
    } finally {
      await t.down();
    }
  },
});

Deno.test({
  name: "boundary (root): OVS decaps VNI 99 to external and encaps the reply with 0x0129/0",
  ignore: !ready,
  async fn() {
    // Kernel sleds with the OVS boundary: scapy in sled1's GZ plays the switch.
    const t = await up({ mode: "kernel", boundary: "switch" });
    try {
      const s1 = t.plan.sleds[0], vm = s1.vms[0];
      const b = await startBoundary(t, {
        nat: [{ externalIp: "203.0.113.5", underlay: s1.host, vni: VPC_VNI, mac: vm.mac }],
      });
      const rack0 = t.plan.racks[0];
      await Deno.mkdir(stateDir(t.plan.prefix), { recursive: true });
      const cap = await Capture.start(
        rack0,
        "bnd",
        "udp port 6081",
        `${stateDir(t.plan.prefix)}/bnd.pcap`,
      );
      try {
        const probe = {
          src: s1.host,
          dst: BOUNDARY_UL,
          vni: 99,
          srcMac: vm.mac,
          dstMac: GW_MAC,
          src4: "203.0.113.5",
          dst4: EXTERNAL_IP,
          ifaces: s1.uplinks.map((u) => u.name),
          timeout: 2,
          via: { iface: "ul0", srcMac: s1.uplinks[0].mac, dstMac: s1.uplinks[0].rackMac },
        };
        const r = await run(
          ["/usr/bin/python3", "lib/testbed/geneve_probe.py", JSON.stringify(probe)],
          { ns: s1.ns },
        );
        const got = r.stdout.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
        assert.equal(got.length, 1, r.stdout + r.stderr);
        const g = got[0];
        assert.equal(g.outerSrc, BOUNDARY_UL);
        assert.equal(g.outerDst, s1.host);
        assert.equal(g.dport, 6081);
        assert.equal(g.vni, VPC_VNI);
        assert.equal(g.proto, 0x6558);
        assert.deepEqual(g.options, [{ class: 0x0129, type: 0, len: 0, data: "" }]);
        assert.equal(g.innerDstMac, vm.mac);
        assert.equal(g.innerSrc, EXTERNAL_IP);
        assert.equal(g.innerDst, "203.0.113.5");
        assert.equal(g.icmpType, 0);
        assert.equal(g.icmpId, g.sentId);
        assert.notEqual(g.udpChecksumOk, false);
        // A VNI other than 99 is not boundary traffic: dropped.
        const r2 = await run(
          [
            "/usr/bin/python3",
            "lib/testbed/geneve_probe.py",
            JSON.stringify({ ...probe, vni: 98, zeroChecksum: true }),
          ],
          { ns: s1.ns },
        );
        assert.equal(r2.stdout.trim(), "");
        // tshark on the rack's boundary link: the probes (VNI 99, 98) and OVS's reply (VNI 10
        // with the external option) dissect cleanly.
        const pkts = await dissectGeneve(await cap.stop());
        assert.deepEqual(pkts.map((p) => p.vni).sort(), [VPC_VNI, 98, 99]);
        assert.deepEqual(
          checkGeneve(pkts, { vnis: [VPC_VNI, 98, 99], oxideOptionOn: [VPC_VNI], min: 3 }),
          [],
        );
        const reply = pkts.find((p) => p.vni === VPC_VNI)!;
        assert.equal(pkts.find((p) => p.vni === 98)!.outerUdp, "zero");
        assert.equal(pkts.find((p) => p.vni === 99)!.outerUdp, "good");
        assert.deepEqual([reply.optionClasses, reply.optionTypes], [[0x0129], [0]]);
        assert.ok(
          reply.otherChecksums.includes("good"),
          `inner checksums: ${reply.otherChecksums}`,
        );
        // The checker can fail: a VNI outside the expected set and a missing option are reported.
        assert.equal(checkGeneve(pkts, { vnis: [99], oxideOptionOn: [98] }).length, 3);
      } finally {
        await cap.stop().catch(() => undefined);
        await b.stop();
      }
    } finally {
      await t.down();
    }
  },
});
