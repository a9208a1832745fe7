// Two sleds joined by one underlay veth ("the rack"), each with one instance in its own
// namespace: the Geneve test bed of geneve_tool.ts and pps_tool.ts.

import { Config } from "../../lib/config/schema.ts";
import { addNetns, sh } from "../link/netns.ts";

/** One sled's config: an instance in namespace `zone`, the peer sled's instance mapped. */
export function sledConfig(n: 1 | 2, u: string, zone: string, ul: string): Config {
  const me = { ip: `172.30.0.1${n - 1}`, mac: `a8:40:25:fa:00:0${n}` };
  const peer = n === 1 ? 2 : 1;
  return Config.parse({
    platform: "linux",
    sled: { underlayAddress: `fd00:${n}::1`, underlayPrefix: "fd00::/16" },
    underlay: {
      links: [{ name: "ul0", device: ul, linkLocal: `fe80::${n}:1` }],
      routes: [{
        prefix: `fd00:${peer}::/64`,
        nextHops: [{ link: "ul0", via: `fe80::${peer}:1` }],
      }],
    },
    ports: [{
      name: `${u}v${n}`,
      kind: "instance",
      zone,
      mac: me.mac,
      overlay: { vni: 10, ipv4: `${me.ip}/22` },
    }],
    mappings: {
      v2p: [1, 2].map((k) => ({
        vni: 10,
        ip: `172.30.0.1${k - 1}`,
        mac: `a8:40:25:fa:00:0${k}`,
        underlay: `fd00:${k}::1`,
      })),
    },
  });
}

/** Namespaces [gz1, gz2, vm1, vm2] and the two sled configs, underlay veth up. */
export function twoSleds(u: string): { ns: string[]; configs: Config[] } {
  const ns = [`${u}-g1`, `${u}-g2`, `${u}-v1`, `${u}-v2`];
  for (const n of ns) {
    addNetns(n);
    sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
    sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
  }
  const uls = [`${u}u1`, `${u}u2`];
  sh(["ip", "link", "add", uls[0], "netns", ns[0], "mtu", "9000", "type", "veth"].concat(
    ["peer", uls[1], "netns", ns[1], "mtu", "9000"],
  ));
  for (const i of [0, 1]) {
    sh(["ip", "netns", "exec", ns[i], "sysctl", "-qw", `net.ipv6.conf.${uls[i]}.disable_ipv6=1`]);
    sh(["ip", "-n", ns[i], "link", "set", uls[i], "up"]);
  }
  return { ns, configs: [sledConfig(1, u, ns[2], uls[0]), sledConfig(2, u, ns[3], uls[1])] };
}
