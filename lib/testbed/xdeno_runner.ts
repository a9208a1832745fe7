// xdeno for one sled of the test bed, built from the library (lib/switch + lib/vpc + lib/link) and
// driven by an xdeno config file (lib/config/schema.ts, written by sled_config.ts): underlay links
// and ports as AF_PACKET links (the ports are the switch ends of the zones' and VMs' veths), the
// host port xde0 as a TAP, a VPC pipeline per port with an overlay identity, V2P/V2B mappings.
//   ip netns exec <sled> deno run -A lib/testbed/xdeno_runner.ts <config.yaml> [ring|mmsg]
// Stops on SIGTERM/SIGINT, closing every link (the TAP disappears with it), and prints its
// counters. When `xdeno run --config` lands, xdeno_sut.ts runs that on the same file instead.

import { parseConfigText } from "../config/load.ts";
import type { Config, Port } from "../config/schema.ts";
import { defaultFirewall } from "../config/routes.ts";
import { firewallInput as ruleInput } from "../runtime/translate.ts";
import type { Link } from "../link/link.ts";
import { LinkMonitor } from "../link/monitor.ts";
import { PacketLink } from "../link/packet_socket.ts";
import { parseIp } from "../packet/bytes.ts";
import { openHostPort } from "../switch/host.ts";
import { Switch } from "../switch/switch.ts";
import { linkWaiter } from "../switch/wait.ts";
import { cidrToString, parseCidr } from "../packet/addr.ts";
import { Mappings } from "../vpc/mappings.ts";
import type { VpcIpConfig } from "../vpc/config.ts";
import type { FirewallRuleInput } from "../vpc/firewall_rules.ts";
import { vpcPort } from "../vpc/vpc_port.ts";

/** Splits "addr/len" into the address and its network ("172.30.0.5/22" → 172.30.0.0/22). */
export function addressAndSubnet(cidr: string): { ip: string; subnet: string } {
  const c = parseCidr(cidr, { loose: true });
  if (!c) throw new Error(`"${cidr}" is not an address with prefix length`);
  return { ip: cidr.split("/")[0], subnet: cidrToString(c) };
}

const family = (ip: string) => (parseIp(ip)?.length === 4 ? 4 : 6);

/** One family of a port's overlay identity in lib/vpc's terms. */
function vpcIp(p: Port, cidr: string | undefined, af: 4 | 6): VpcIpConfig | undefined {
  if (!cidr) return undefined;
  const { ip, subnet } = addressAndSubnet(cidr);
  const ext = p.externalIps;
  const snat = ext?.snat && family(ext.snat.ip) === af ? ext.snat : undefined;
  return {
    privateIp: ip,
    subnet,
    external: {
      snat: snat && { ip: snat.ip, ports: `${snat.ports[0]}-${snat.ports[1]}` },
      ephemeralIp: ext?.ephemeral.find((e) => family(e) === af),
      floatingIps: (ext?.floating ?? []).filter((f) => family(f) === af),
    },
  };
}

/** The config's firewall rules as lib/vpc takes them (the VPC default when the port names none). */
export function firewallInput(p: Port): FirewallRuleInput[] {
  return (p.firewall ?? defaultFirewall(p)).map(ruleInput);
}

/** Loads the mappings of a config into the sled-wide tables. */
export function loadMappings(cfg: Config): Mappings {
  const m = new Mappings();
  for (const e of cfg.mappings.v2p) m.v2p.set(e.vni, e.ip, e.mac, e.underlay);
  const byPrefix = new Map<string, { ip: string; vni: number }[]>();
  for (const e of cfg.mappings.v2b) {
    const list = byPrefix.get(e.prefix) ?? [];
    list.push(...e.endpoints.map((ip) => ({ ip, vni: e.vni })));
    byPrefix.set(e.prefix, list);
  }
  for (const [prefix, eps] of byPrefix) m.v2b.set(prefix, eps);
  return m;
}

/** Builds the switch from `cfg`, runs it until a signal, then releases everything. */
export async function runSled(cfg: Config, rx?: "ring" | "mmsg"): Promise<void> {
  const links: Link[] = [];
  const monitor = new LinkMonitor();
  const open = (ifname: string) => {
    const l = PacketLink.open({ ifname, promisc: true, allmulti: true, rx });
    links.push(l);
    monitor.watch(l);
    return l;
  };
  try {
    const sledAddress = cfg.sled.underlayAddress;
    const sw = new Switch({
      underlayPrefix: cfg.sled.underlayPrefix,
      sledAddress,
      underlay: cfg.underlay.links.map((u) => ({
        link: open(u.device ?? u.name),
        linkLocal: u.linkLocal,
      })),
    });
    sw.onTick(() => void monitor.poll());
    const hostSpec = cfg.ports.find((p) => p.kind === "host");
    const host = hostSpec &&
      openHostPort(sw, {
        name: cfg.sled.hostInterface,
        mac: hostSpec.mac,
        address: hostSpec.addresses[0]?.split("/")[0] ?? sledAddress,
      });
    const mappings = loadMappings(cfg);
    for (const p of cfg.ports) {
      if (p.kind === "host") continue;
      const ov = p.overlay;
      const pipeline = ov &&
        vpcPort({
          name: p.name,
          vni: ov.vni,
          guestMac: p.mac,
          gatewayMac: ov.gatewayMac,
          underlay: sledAddress,
          mtu: p.mtu,
          v4: vpcIp(p, ov.ipv4, 4),
          v6: vpcIp(p, ov.ipv6, 6),
          dhcp: { dns4: ["198.51.100.53"], hostname: p.name, domain: "xdeno.test" },
          firewall: firewallInput(p),
          mappings,
        });
      sw.addPort({
        name: p.name,
        kind: p.kind,
        link: open(p.name),
        mac: p.mac,
        underlay: p.addresses.filter((a) => a.includes(":")).map((a) => a.split("/")[0]),
        vni: ov?.vni,
        pipeline,
      });
    }
    for (const r of cfg.underlay.routes) sw.setRoute(r.prefix, r.nextHops);
    const stop = { stopped: false };
    const halt = () => stop.stopped = true;
    Deno.addSignalListener("SIGTERM", halt);
    Deno.addSignalListener("SIGINT", halt);
    console.log("xdeno-runner: forwarding");
    await sw.run(stop, linkWaiter(sw));
    host?.close();
    console.log(`xdeno-runner: stopped ${JSON.stringify(sw.counters)}`);
    console.log(`xdeno-runner: pipeline ${JSON.stringify(Object.fromEntries(sw.ov.reasons))}`);
  } finally {
    for (const l of links) l.close();
    monitor.close();
  }
}

if (import.meta.main) {
  const file = Deno.args[0];
  const r = parseConfigText(await Deno.readTextFile(file));
  if (!r.ok) {
    for (const p of r.problems) console.error(`${file}: ${p.path}: ${p.message}`);
    Deno.exit(2);
  }
  const rx = Deno.args[1] === "mmsg" ? "mmsg" : undefined;
  await runSled(r.config, rx);
}
