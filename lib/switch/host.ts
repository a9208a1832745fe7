// The host port: the global zone's own IP interface on the switch (xde0), a TAP device xdeno
// creates and plumbs itself — MAC, MTU, up, the sled's underlay address, and a route for the
// underlay prefix via the switch's gateway link-local — instead of putting the sled's address on
// a loopback. GZ traffic to system zones and other sleds leaves through it.

import { TapLink } from "../link/tap.ts";
import { Plumber } from "../link/plumb.ts";
import { ipv6ToString } from "../packet/bytes.ts";
import { mustMac } from "./port.ts";
import type { SwitchPort } from "./port.ts";
import type { Switch } from "./switch.ts";

/** How to create the host port. */
export interface HostPortOptions {
  /** Interface name; "xde0" by default. */
  name?: string;
  mac: string;
  mtu?: number;
  /** The sled's underlay address. */
  address: string;
  /** Prefix length put on the interface (64). */
  prefixLen?: number;
  /** Namespace of the global zone (null: ours). */
  netns?: string | null;
}

/** A plumbed host port; `close` removes the port, its routes, addresses and the device. */
export interface HostPort {
  readonly port: SwitchPort;
  readonly link: TapLink;
  close(): void;
}

/** Creates, plumbs and attaches the host port. Undoes everything if a step fails. */
export function openHostPort(sw: Switch, o: HostPortOptions): HostPort {
  const name = o.name ?? "xde0";
  const netns = o.netns ?? null;
  const link = TapLink.open({
    name,
    mac: mustMac(o.mac, "host.mac"),
    mtu: o.mtu ?? 1500,
    netns: netns ?? undefined,
  });
  const plumb = new Plumber(netns);
  let port: SwitchPort | null = null;
  try {
    // The switch answers NDP for the segment and is the only router on it.
    plumb.sysctl(`net.ipv6.conf.${name}.accept_dad`, "0");
    plumb.sysctl(`net.ipv6.conf.${name}.accept_ra`, "0");
    plumb.addAddress(name, `${o.address}/${o.prefixLen ?? 64}`);
    const p = sw.underlayPrefix, len = sw.underlayPrefixLen;
    plumb.addRoute({
      dst: `${ipv6ToString(p)}/${len}`,
      dev: name,
      via: ipv6ToString(sw.gatewayLinkLocal),
    });
    port = sw.addPort({ name, kind: "host", link, mac: o.mac, underlay: [o.address] });
  } catch (e) {
    plumb.close();
    link.close();
    throw e;
  }
  const attached = port;
  return {
    port: attached,
    link,
    close() {
      sw.removePort(attached.name);
      plumb.close();
      link.close();
    },
  };
}
