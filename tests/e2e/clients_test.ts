// End-to-end address configuration of an instance by xdeno's VPC gateway, with the real clients
// a guest runs: dhclient (DHCPv4, DHCPv6) and rdisc6 (router solicitation → advertisement). The
// leased addresses must then carry traffic across the sleds.
import assert from "node:assert/strict";
import { dhcp4, dhcp6, routerAdvert } from "../../lib/testbed/clients.ts";
import { run } from "../../lib/testbed/exec.ts";
import { GW_LL, VPC_GW4 } from "../../lib/testbed/plan.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { ping } from "../../lib/testbed/verify.ts";
import { assertReachable, e2eSkip, sut, withSwitch } from "./harness.ts";

const why = await e2eSkip();
const name = (s: string) => `e2e (${sut.name}): ${s}`;
// The VPC gateway (DHCP, RA) is xdeno's; the kernel and OVS stand-ins have none.
const ignore = !!why || !carries(sut, "overlay") || sut.name !== "xdeno";

Deno.test({
  name: name("DHCPv4: dhclient in vm0 leases its address from the gateway, then reaches sled2 vm0"),
  ignore,
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds, vm = s1.vms[0];
      await run(["ip", "-4", "addr", "flush", "dev", "eth0"], { ns: vm.ns });
      const l = await dhcp4(vm.ns);
      assert.ok(l.ok, l.log);
      assert.equal(l.address, `${vm.ip4}/32`);
      assert.equal(l.router, VPC_GW4);
      await assertReachable(t, [ping("vm0 (leased) → sled2 vm0", vm.ns, s2.vms[0].ip4)]);
    });
  },
});

Deno.test({
  name: name("RA and DHCPv6: vm0 solicits the gateway's RA (managed) and leases its IPv6"),
  ignore,
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds, vm = s1.vms[0];
      const ra = await routerAdvert(vm.ns);
      assert.ok(ra.ok, ra.log);
      assert.equal(ra.router, GW_LL);
      assert.equal(ra.note, "managed, MTU 1500");
      // OPTE advertises no prefix: SLAAC must not configure anything, DHCPv6 does.
      assert.doesNotMatch(ra.log, /Prefix\s*:/);
      await run(["ip", "-6", "addr", "flush", "dev", "eth0", "scope", "global"], { ns: vm.ns });
      const l = await dhcp6(vm.ns);
      assert.ok(l.ok, l.log);
      assert.equal(l.address, `${vm.ip6}/128`);
      await assertReachable(t, [ping("vm0 (leased) → sled2 vm0 IPv6", vm.ns, s2.vms[0].ip6)]);
    });
  },
});
