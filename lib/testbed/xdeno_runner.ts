// A minimal xdeno datapath for one sled of the test bed, built from the library (lib/switch +
// lib/link): underlay links ul0/ul1 and the zones' veth ends as AF_PACKET links, the host port
// xde0 as a TAP, pass-through only (DESIGN.md paths 1-3). Run inside the sled namespace:
//   ip netns exec <sled> deno run -A lib/testbed/xdeno_runner.ts '<RunnerConfig JSON>'
// Stops on SIGTERM/SIGINT, closing every link (the TAP disappears with it). Phase 2 replaces it
// with `xdeno run --config`.

import { PacketLink } from "../link/packet_socket.ts";
import type { Link } from "../link/link.ts";
import { openHostPort } from "../switch/host.ts";
import { Switch } from "../switch/switch.ts";
import { linkWaiter } from "../switch/wait.ts";

/** What the runner is told (derived from plan.ts by xdeno_sut.ts). */
export interface RunnerConfig {
  sledAddress: string;
  hostMac: string;
  underlayPrefix: string;
  uplinks: { name: string; ll: string; via: string }[];
  zones: { name: string; link: string; mac: string; ip6: string }[];
  /** Packet-socket receive mode ("ring": TPACKET_V3, the default; "mmsg": recvmmsg). */
  rx?: "ring" | "mmsg";
}

/** Builds the switch, runs it until a signal, then releases everything. */
export async function runSled(cfg: RunnerConfig): Promise<void> {
  const links: Link[] = [];
  const open = (ifname: string) => {
    const l = PacketLink.open({ ifname, promisc: true, allmulti: true, rx: cfg.rx });
    links.push(l);
    return l;
  };
  try {
    const sw = new Switch({
      underlayPrefix: cfg.underlayPrefix,
      sledAddress: cfg.sledAddress,
      underlay: cfg.uplinks.map((u) => ({ link: open(u.name), linkLocal: u.ll })),
    });
    const host = openHostPort(sw, { mac: cfg.hostMac, address: cfg.sledAddress });
    for (const z of cfg.zones) {
      sw.addPort({
        name: z.name,
        kind: "system",
        link: open(z.link),
        mac: z.mac,
        underlay: [z.ip6],
      });
    }
    sw.setRoute(cfg.underlayPrefix, cfg.uplinks.map((u) => ({ link: u.name, via: u.via })));
    const stop = { stopped: false };
    const halt = () => stop.stopped = true;
    Deno.addSignalListener("SIGTERM", halt);
    Deno.addSignalListener("SIGINT", halt);
    console.log("xdeno-runner: forwarding");
    await sw.run(stop, linkWaiter(sw));
    host.close();
    console.log(`xdeno-runner: stopped ${JSON.stringify(sw.counters)}`);
  } finally {
    for (const l of links) l.close();
  }
}

if (import.meta.main) await runSled(JSON.parse(Deno.args[0]) as RunnerConfig);
