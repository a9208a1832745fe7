// Two sleds for real: each a Switch with two AF_PACKET underlay links to one Linux rack
// router, each with a VM (a namespace behind a TAP port) on the real VPC pipeline. The VMs
// reach each other over Geneve between the sleds' underlay addresses.
import assert from "node:assert/strict";
import { PacketLink } from "../../lib/link/packet_socket.ts";
import { TapLink } from "../../lib/link/tap.ts";
import { parseMac } from "../../lib/packet/bytes.ts";
import { Switch } from "../../lib/switch/switch.ts";
import { linkWaiter } from "../../lib/link/wait.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";

const ROOT = Deno.uid() === 0;
if (!ROOT) console.warn("SKIP switch netns overlay test: needs root (network namespaces)");

function sh(cmd: string[], allowFail = false): string {
  const r = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .outputSync();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  if (!r.success && !allowFail) throw new Error(`${cmd.join(" ")}: ${out}`);
  return out;
}

async function shAsync(cmd: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

const VNI = 10;
const SLEDS = [
  { n: 1, addr: "fd00:1::1", macs: ["a8:40:25:00:10:00", "a8:40:25:00:10:01"] },
  { n: 2, addr: "fd00:2::1", macs: ["a8:40:25:00:20:00", "a8:40:25:00:20:01"] },
];
const VMS = [
  { key: "a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", sled: 0 },
  { key: "b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11", sled: 1 },
];

Deno.test({
  name: "netns: VM on sled 1 ↔ VM on sled 2 over Geneve through a Linux rack (ping, TCP)",
  ignore: !ROOT,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const u = `xo${(Deno.pid % 1000).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    const rk = `${u}-rk`;
    const nss = [rk, `${u}-s1`, `${u}-s2`, `${u}-va`, `${u}-vb`];
    const closers: { close(): void }[] = [];
    const stop = { stopped: false };
    const loops: Promise<void>[] = [];
    try {
      for (const n of nss) {
        sh(["ip", "netns", "add", n]);
        sh(["ip", "-n", n, "link", "set", "lo", "up"]);
        for (const k of ["all", "default"]) {
          sh(["ip", "netns", "exec", n, "sysctl", "-qw", `net.ipv6.conf.${k}.accept_dad=0`]);
          if (n !== rk) {
            sh(["ip", "netns", "exec", n, "sysctl", "-qw", `net.ipv6.conf.${k}.disable_ipv6=1`]);
          }
        }
      }
      sh(["ip", "netns", "exec", rk, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
      const maps = SLEDS.map(() => new Mappings());
      for (const m of maps) {
        for (const v of VMS) m.v2p.set(VNI, v.ip, v.mac, SLEDS[v.sled].addr);
      }
      const sws = SLEDS.map((s, si) => {
        const ns = `${u}-s${s.n}`;
        const ul = [0, 1].map((i) => {
          const mine = `${u}${s.n}u${i}`, rack = `${u}${s.n}r${i}`;
          sh([
            "ip",
            "link",
            "add",
            mine,
            "netns",
            ns,
            "address",
            s.macs[i],
            "mtu",
            "9000",
            "type",
            "veth",
            "peer",
            rack,
            "netns",
            rk,
            "mtu",
            "9000",
          ]);
          sh(["ip", "-n", ns, "link", "set", mine, "up"]);
          sh(["ip", "-n", rk, "link", "set", rack, "up"]);
          sh(["ip", "-n", rk, "addr", "add", "fe80::ff/64", "dev", rack, "nodad"]);
          sh(["ip", "netns", "exec", rk, "ethtool", "-K", rack, "tx", "off"], true);
          const l = PacketLink.open({ ifname: mine, netns: ns, promisc: true, allmulti: true });
          closers.push(l);
          return { link: l, linkLocal: `fe80::${s.n}:${i + 1}` };
        });
        sh([
          "ip",
          "-n",
          rk,
          "-6",
          "route",
          "add",
          `fd00:${s.n}::/64`,
          "nexthop",
          "via",
          `fe80::${s.n}:1`,
          "dev",
          `${u}${s.n}r0`,
          "nexthop",
          "via",
          `fe80::${s.n}:2`,
          "dev",
          `${u}${s.n}r1`,
        ]);
        const sw = new Switch({ underlayPrefix: "fd00::/16", sledAddress: s.addr, underlay: ul });
        const other = SLEDS[1 - si];
        sw.setRoute(`fd00:${other.n}::/64`, [
          { link: `${u}${s.n}u0`, via: "fe80::ff" },
          { link: `${u}${s.n}u1`, via: "fe80::ff" },
        ]);
        for (const v of VMS.filter((v) => v.sled === si)) {
          const vns = `${u}-v${v.key}`, dev = `${u}v${v.key}`;
          const tap = TapLink.open({ name: dev, mac: parseMac(v.mac)!, netns: vns, mtu: 1500 });
          closers.push(tap);
          sh(["ip", "-n", vns, "addr", "add", `${v.ip}/32`, "dev", dev]);
          sh(["ip", "-n", vns, "route", "add", "172.30.0.1", "dev", dev]);
          sh(["ip", "-n", vns, "route", "add", "default", "via", "172.30.0.1", "dev", dev]);
          const pipeline = vpcPort({
            name: `vm-${v.key}`,
            vni: VNI,
            guestMac: v.mac,
            underlay: s.addr,
            v4: { privateIp: v.ip, subnet: "172.30.0.0/22" },
            mappings: maps[si],
          });
          sw.addPort({
            name: `vm-${v.key}`,
            kind: "instance",
            link: tap,
            mac: v.mac,
            vni: VNI,
            pipeline,
          });
        }
        loops.push(sw.run(stop, linkWaiter(sw), 1));
        return sw;
      });
      const ping = await shAsync([
        "ip",
        "netns",
        "exec",
        `${u}-va`,
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "172.30.0.11",
      ]);
      assert.ok(
        ping.ok,
        `${ping.out}\n${JSON.stringify(sws.map((s) => [s.counters.toJSON(), [...s.ov.reasons]]))}`,
      );
      for (const sw of sws) {
        const ev = sw.counters.toJSON().events;
        assert.ok(ev["overlay-out"] >= 3 && ev["overlay-in"] >= 3, JSON.stringify(ev));
      }
      const server = new Deno.Command("ip", {
        args: ["netns", "exec", `${u}-vb`, "iperf3", "-s", "-1", "-B", "172.30.0.11"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await new Promise((r) => setTimeout(r, 300));
      const tcp = await shAsync([
        "ip",
        "netns",
        "exec",
        `${u}-va`,
        "iperf3",
        "-c",
        "172.30.0.11",
        "-t",
        "1",
        "-J",
      ]);
      await server.status;
      assert.ok(tcp.ok, tcp.out.slice(0, 1500));
      const bps = JSON.parse(tcp.out).end.sum_received.bits_per_second as number;
      console.log(
        `iperf3 VM→VM across sleds (Geneve, 2 switches in one thread): ${
          (bps / 1e6).toFixed(0)
        } Mbit/s`,
      );
      assert.ok(bps > 1e6);
    } finally {
      stop.stopped = true;
      await Promise.all(loops);
      for (const c of closers) c.close();
      for (const n of nss) sh(["ip", "netns", "del", n], true);
    }
  },
});
