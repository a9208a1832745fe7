// Root only: the DHCPv4 / DHCPv6 / SLAAC client helpers against a stand-in gateway (dnsmasq +
// radvd with the Oxide gateway MAC), so that the e2e checks of xdeno's gateway are known to work.
import assert from "node:assert/strict";
import { dhcp4, dhcp6, releaseNetnsEtc, slaac } from "../../lib/testbed/clients.ts";
import { isRoot, run, spawn } from "../../lib/testbed/exec.ts";
import { GW_LL, GW_MAC, newPrefix, stateDir } from "../../lib/testbed/plan.ts";
import { lacks } from "../tools.ts";

const ready = isRoot() &&
  !lacks("tests/testbed/clients_test.ts", "dhclient", "dnsmasq", "radvd", "rdisc6");
if (!isRoot()) console.warn("SKIP tests/testbed/clients_test.ts: needs root");

Deno.test({
  name: "clients (root): dhclient -4/-6 and SLAAC get what a stand-in gateway offers",
  ignore: !ready,
  async fn() {
    const p = newPrefix(), srv = `${p}-gw`, cli = `${p}-vm`, dir = stateDir(p);
    await Deno.mkdir(dir, { recursive: true });
    const procs = [];
    try {
      for (const ns of [srv, cli]) await run(["ip", "netns", "add", ns]);
      for (const ns of [srv, cli]) {
        await run([
          "sysctl",
          "-qw",
          "net.ipv6.conf.all.accept_dad=0",
          "net.ipv6.conf.default.accept_dad=0",
        ], { ns });
      }
      await run([
        "ip",
        "-n",
        srv,
        "link",
        "add",
        "eth0",
        "address",
        GW_MAC,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        cli,
      ]);
      await run(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"], { ns: srv });
      for (const a of ["172.30.0.1/22", "fd00:a::1/64"]) {
        await run(["ip", "-n", srv, "addr", "add", a, "dev", "eth0"]);
      }
      for (const ns of [srv, cli]) await run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
      await Deno.writeTextFile(
        `${dir}/radvd.conf`,
        "interface eth0 { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 10;\n" +
          "  prefix fd00:b::/64 { AdvOnLink on; AdvAutonomous on; }; };\n",
      );
      procs.push(
        spawn(
          ["radvd", "-n", "-C", `${dir}/radvd.conf`, "-p", `${dir}/radvd.pid`, "-m", "stderr"],
          srv,
        ),
      );
      procs.push(spawn([
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--port=0",
        "--user=root",
        "--interface=eth0",
        "--bind-interfaces",
        `--pid-file=${dir}/dnsmasq.pid`,
        `--dhcp-leasefile=${dir}/dnsmasq.leases`,
        "--dhcp-range=172.30.0.100,172.30.0.100,255.255.252.0,1h",
        "--dhcp-option=option:router,172.30.0.1",
        "--dhcp-range=fd00:a::100,fd00:a::100,64,1h",
      ], srv));

      const v4 = await dhcp4(cli);
      assert.ok(v4.ok, v4.log);
      assert.equal(v4.address, "172.30.0.100/22");
      assert.equal(v4.router, "172.30.0.1");

      const ra = await slaac(cli);
      assert.ok(ra.ok, ra.log);
      assert.match(ra.address!, /^fd00:b::[0-9a-f:]+\/64$/);
      assert.equal(ra.router, GW_LL);
      assert.match(ra.log, /fd00:b::\/64/);

      const v6 = await dhcp6(cli);
      assert.ok(v6.ok, v6.log);
      assert.equal(v6.address, "fd00:a::100/128");
    } finally {
      for (const pr of procs) await pr.stop();
      for (const ns of [srv, cli]) await run(["ip", "netns", "del", ns], { check: false });
      await releaseNetnsEtc([srv, cli]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    await assert.rejects(Deno.stat(`/etc/netns/${cli}`));
  },
});
