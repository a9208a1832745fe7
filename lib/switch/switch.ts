// The multi-port sled switch: configuration, the port and route tables, typed control commands
// applied between batches, neighbour timers, and the datapath loop (batched receive → process
// → batched send over every Link).

import { HEADROOM, type Link, MAX_FRAME, VNET_HDR_LEN } from "../link/link.ts";
import { FrameBatch } from "../link/link.ts";
import { ipv6ToString, macToString, parseIp } from "../packet/bytes.ts";
import { REPLICATION } from "./multicast.ts";
import {
  applyCommand,
  describePorts,
  describeRoutes,
  type McastNextHopSpec,
  type NextHopSpec,
  type PortDescription,
  type RouteDescription,
  type SwitchCommand,
} from "./control.ts";

export type { McastNextHopSpec, NextHopSpec, SwitchCommand };
import { releasePipeline } from "./overlay.ts";
import { DROP, EV } from "./counters.ts";
import { Datapath } from "./datapath.ts";
import { eui64LinkLocal } from "../packet/addr.ts";
import { DEFAULT_NUD, NeighborCache, type NudTimers } from "./neighbor.ts";
import { mustIpv6, mustMac, mustPrefix, type PortSpec, SwitchPort } from "./port.ts";
import { releaseHops, Route, type UnderlayLink } from "./routes.ts";
import { Segmenter } from "./segment.ts";
import { TxQueue } from "./txq.ts";
import { InvalidField } from "../contract/field_error.ts";

/** One underlay link in the switch configuration. */
export interface UnderlayLinkSpec {
  link: Link;
  /** Our link-local address on it; EUI-64 of the link's MAC when absent. */
  linkLocal?: string;
}

/** How to build a switch. */
export interface SwitchConfig {
  /** The MAC every zone sees as its router; OPTE's a8:40:25:ff:77:77 by default. */
  gatewayMac?: string;
  /** The router's link-local address on every port; EUI-64 of gatewayMac by default. */
  gatewayLinkLocal?: string;
  /** Prefix of the underlay (pass-through destinations), e.g. "fd00::/16". */
  underlayPrefix: string;
  /** This sled's underlay address (source of ICMPv6 errors we send onto the underlay). */
  sledAddress: string;
  underlay: UnderlayLinkSpec[];
  /** Monotonic milliseconds; performance.now by default. */
  clock?: () => number;
  /** Frames per receive/transmit batch (32). */
  batch?: number;
  /** Bytes per frame buffer, headroom included (16 KiB + HEADROOM; 64 KiB + … with `vnet`). */
  frameSize?: number;
  /**
   * Carry virtio-net headers (links opened with offload): checksum-partial and GSO super-frames
   * cross pass-through paths whole; other paths complete the checksum and drop GSO frames.
   */
  vnet?: boolean;
  nud?: Partial<NudTimers>;
  /** Router lifetime in our RAs, seconds (1800). */
  raLifetime?: number;
  /** Minimum ms between neighbour-timer passes (20). */
  tickMs?: number;
  /** Period of pipeline flow expiry (`expire()` on every port's pipeline), ms (1000). */
  expireMs?: number;
}

/** The sled's switch. */
export class Switch extends Datapath {
  readonly ports: SwitchPort[] = [];
  readonly underlay: UnderlayLink[] = [];
  private readonly byName = new Map<string, SwitchPort>();
  private readonly rx: FrameBatch;
  private readonly clock: () => number;
  private readonly batchSize: number;
  private readonly frameSize: number;
  /** True when frames carry virtio-net headers (SwitchConfig.vnet). */
  readonly vnet: boolean;
  private readonly tickMs: number;
  private lastTick = -Infinity;
  private lastExpire = -Infinity;
  private readonly expireMs: number;
  private readonly tickHooks: (() => void)[] = [];
  private linkGen = 0;
  private ulMtu = 1500;
  private nowMs = 0;
  /** The last internal error a frame caused (a bug), for diagnostics; null when none. */
  lastError: string | null = null;
  private readonly pending: { cmd: SwitchCommand; done: (e: Error | null) => void }[] = [];
  private readonly liveCount = new Map<Route, number>();

  constructor(cfg: SwitchConfig) {
    const gwMac = mustMac(cfg.gatewayMac ?? "a8:40:25:ff:77:77", "gatewayMac");
    const gwLL = cfg.gatewayLinkLocal
      ? mustIpv6(cfg.gatewayLinkLocal, "gatewayLinkLocal")
      : eui64LinkLocal(gwMac);
    const { prefix, len } = mustPrefix(cfg.underlayPrefix, "underlayPrefix");
    super(
      gwMac,
      gwLL,
      prefix,
      len,
      mustIpv6(cfg.sledAddress, "sledAddress"),
      cfg.raLifetime ?? 1800,
    );
    this.clock = cfg.clock ?? (() => performance.now());
    this.batchSize = cfg.batch ?? 32;
    this.vnet = cfg.vnet === true;
    this.frameSize = cfg.frameSize ?? (this.vnet ? MAX_FRAME : 16384) + HEADROOM;
    this.tickMs = cfg.tickMs ?? 20;
    this.expireMs = cfg.expireMs ?? 1000;
    this.rx = new FrameBatch(this.batchSize, this.frameSize, { vnet: this.vnet });
    // Up to 64 segments of a 64 KiB super-frame (MSS ≥ 1024); buffers swap with transmit queues.
    if (this.vnet) this.seg = new Segmenter(64, this.frameSize);
    // Large segments from peers are cut to MSS for ports without offload (and outbound for
    // peers without the MSS option); 64 segments of the largest frame.
    this.ov.seg = new Segmenter(64, this.frameSize);
    const nud = { ...DEFAULT_NUD, ...cfg.nud };
    const names = new Set<string>();
    cfg.underlay.forEach((u, i) => {
      if (names.has(u.link.name)) {
        throw new InvalidField(`underlay[${i}]`, `duplicate link ${u.link.name}`);
      }
      names.add(u.link.name);
      this.underlay.push({
        link: u.link,
        linkLocal: u.linkLocal
          ? mustIpv6(u.linkLocal, `underlay[${i}].linkLocal`)
          : eui64LinkLocal(u.link.mac),
        neighbors: new NeighborCache(nud),
        tx: new TxQueue(u.link, this.batchSize, this.frameSize, this.vnet, this.counters.drops),
        up: u.link.isUp(),
      });
    });
    const mtus = this.underlay.map((u) => u.link.mtu);
    if (mtus.length > 0) this.ulMtu = Math.min(...mtus);
  }

  /** The smallest underlay MTU (what an encapsulated packet must fit); links are fixed. */
  protected override minUnderlayMtu(): number {
    return this.ulMtu;
  }

  /** Monotonic whole ms of the current pass: the clock to give every pipeline (one read a batch). */
  readonly batchClock = (): number => this.nowMs;

  /** Adds a port; throws (changing nothing) when its name, MAC or an address is taken. */
  addPort(spec: PortSpec): SwitchPort {
    if (this.byName.has(spec.name)) {
      throw new InvalidField(`ports.${spec.name}`, "name already in use");
    }
    const port = new SwitchPort(
      spec,
      new TxQueue(spec.link, this.batchSize, this.frameSize, this.vnet, this.counters.drops),
    );
    if (this.byMac.get(port.mac, 0, port.vni) !== undefined) {
      throw new InvalidField(`ports.${spec.name}.mac`, `${macToString(port.mac)} already in use`);
    }
    port.underlay.forEach((a, i) => {
      const other = this.byAddr.get(a, 0, 0);
      if (other !== undefined) {
        throw new Error(
          `ports.${spec.name}.underlay[${i}]: ${ipv6ToString(a)} belongs to ${other.name}`,
        );
      }
    });
    this.byName.set(port.name, port);
    this.byMac.set(port.mac, port.vni, port);
    for (const a of port.underlay) this.byAddr.set(a, 0, port);
    this.ports.push(port);
    this.linkGen++;
    return port;
  }

  /** Removes a port, its table entries and its link; false when unknown. */
  removePort(name: string): boolean {
    const port = this.byName.get(name);
    if (port === undefined) return false;
    this.byName.delete(name);
    this.byMac.delete(port.mac, port.vni);
    for (const a of port.underlay) this.byAddr.delete(a, 0);
    this.ports.splice(this.ports.indexOf(port), 1);
    this.mc.removePort(port);
    this.linkGen++;
    port.tx.batch.count = 0;
    if (port.pipeline) releasePipeline(port.pipeline);
    port.link.close();
    return true;
  }

  /** Pauses (or resumes) a port's traffic both ways; false when unknown. */
  setPaused(name: string, paused: boolean): boolean {
    const p = this.byName.get(name);
    if (p) p.paused = paused;
    return p !== undefined;
  }

  /** The port called `name`. */
  port(name: string): SwitchPort | undefined {
    return this.byName.get(name);
  }

  /** Sets the next hops of an underlay prefix (replacing any previous route for it). */
  setRoute(prefix: string, nextHops: NextHopSpec[]): void {
    const p = mustPrefix(prefix, "route.prefix");
    const hops = nextHops.map((h, i) => {
      const ul = this.underlay.find((u) => u.link.name === h.link);
      if (!ul) throw new Error(`route ${prefix}: nextHops[${i}].link: no underlay link ${h.link}`);
      return { ul, addr: mustIpv6(h.via, `route ${prefix}: nextHops[${i}].via`) };
    }).map(({ ul, addr }) => ({ ul, neighbor: ul.neighbors.acquire(addr) }));
    const route = new Route(p.prefix, p.len, hops);
    const old = this.routes.set(route);
    if (old) {
      releaseHops(old);
      this.liveCount.delete(old);
    }
    this.liveCount.set(route, route.live.length);
    // Resolve new next hops now rather than on the next timer pass.
    this.lastTick = -Infinity;
  }

  /** Removes the route for exactly `prefix`; false when there is none. */
  removeRoute(prefix: string): boolean {
    const p = mustPrefix(prefix, "route.prefix");
    const old = this.routes.remove(p.prefix, p.len);
    if (!old) return false;
    releaseHops(old);
    this.liveCount.delete(old);
    return true;
  }

  /** Maps overlay multicast group `group` (IPv4 or IPv6) to an ff04::/16 underlay group. */
  setM2p(group: string, underlay: string): void {
    const g = parseIp(group);
    const isGroup = g !== null && (g.length === 4 ? (g[0] & 0xf0) === 0xe0 : g[0] === 0xff);
    if (!isGroup) throw new Error(`m2p ${group}: not a multicast group address`);
    const u = mustIpv6(underlay, `m2p ${group}: underlay`);
    if (u[0] !== 0xff || u[1] !== 0x04) {
      throw new Error(`m2p ${group}: underlay ${underlay} is not in ff04::/16`);
    }
    this.mc.setM2p(g, u);
  }

  /** Removes an M2P mapping and its subscriptions; false when unknown. */
  clearM2p(group: string): boolean {
    const g = parseIp(group);
    return g !== null && this.mc.clearM2p(g);
  }

  /** Subscribes a port to an overlay group. */
  subscribe(port: string, group: string): void {
    const p = this.byName.get(port);
    if (!p) throw new InvalidField(`ports.${port}`, "no such port");
    const g = parseIp(group);
    if (!g) throw new InvalidField(`ports.${port}`, `"${group}" is not an IP address`);
    this.mc.subscribe(p, g, `ports.${port}: ${group}`);
  }

  /** Unsubscribes a port from an overlay group; false when it was not subscribed. */
  unsubscribe(port: string, group: string): boolean {
    const p = this.byName.get(port), g = parseIp(group);
    return p !== undefined && g !== null && this.mc.unsubscribe(p, g);
  }

  /** Sets where copies of an underlay group go (one Geneve copy per next hop). */
  setMcastForwarding(underlay: string, nextHops: McastNextHopSpec[]): void {
    const u = mustIpv6(underlay, `mcast ${underlay}`);
    this.mc.setForwarding(
      u,
      nextHops.map((h, i) => {
        if (!(h.replication in REPLICATION)) {
          throw new Error(
            `mcast ${underlay}: nextHops[${i}].replication: "${h.replication}" ` +
              `is not one of external, underlay, both`,
          );
        }
        return {
          via: mustIpv6(h.via, `mcast ${underlay}: nextHops[${i}].via`),
          replication: h.replication,
        };
      }),
    );
  }

  /** Queues a command for the datapath; resolves once applied between two batches. */
  submit(cmd: SwitchCommand): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ cmd, done: (e) => e ? reject(e) : resolve() });
    });
  }

  /** Applies one command now (throws on a bad one, changing nothing). */
  apply(cmd: SwitchCommand): void {
    applyCommand(this, cmd);
  }

  /** A plain description of every port (admin API, CLI). */
  describePorts(): PortDescription[] {
    return describePorts(this);
  }

  /** A plain description of routes and their live next hops (admin API, tests). */
  describeRoutes(): RouteDescription[] {
    return describeRoutes(this);
  }

  /** One pass: commands, timers, one batch from every link, then every queue flushed. */
  poll(): number {
    while (this.pending.length > 0) {
      const p = this.pending.shift()!;
      try {
        this.apply(p.cmd);
        p.done(null);
      } catch (e) {
        p.done(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.now = this.clock();
    this.nowMs = Math.floor(this.now);
    if (this.now - this.lastTick >= this.tickMs) this.tick();
    const rx = this.rx;
    let total = 0;
    const ports = this.ports;
    for (let k = 0; k < ports.length; k++) {
      const port = ports[k];
      if (port.paused) continue;
      const n = port.link.recv(rx);
      if (rx.vnet !== null && n > 0 && !carriesVnet(port.link)) {
        rx.vnet.fill(0, 0, n * VNET_HDR_LEN);
      }
      for (let i = 0; i < n; i++) {
        try {
          this.fromPort(port, rx, i);
        } catch (e) {
          this.internalError(e);
        }
      }
      total += n;
    }
    const uls = this.underlay;
    for (let k = 0; k < uls.length; k++) {
      const ul = uls[k];
      const n = ul.link.recv(rx);
      if (rx.vnet !== null && n > 0 && !carriesVnet(ul.link)) rx.vnet.fill(0, 0, n * VNET_HDR_LEN);
      for (let i = 0; i < n; i++) {
        try {
          this.fromUnderlay(ul, rx, i);
        } catch (e) {
          this.internalError(e);
        }
      }
      total += n;
    }
    this.flush();
    return total;
  }

  /**
   * A bug (ours or a pipeline's) hit by one frame: that frame is dropped and counted, the
   * message kept for the admin API, and the loop goes on with the next frame.
   */
  private internalError(e: unknown): void {
    this.counters.drops[DROP.internal]++;
    this.lastError = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }

  /** Hands every queued frame to its link. */
  flush(): void {
    for (let k = 0; k < this.ports.length; k++) this.ports[k].tx.flush();
    for (let k = 0; k < this.underlay.length; k++) this.underlay[k].tx.flush();
  }

  /**
   * Runs `fn` on every timer pass, between batches (e.g. `() => linkMonitor.poll()` so carrier
   * changes reach `Link.isUp()` within one pass).
   */
  onTick(fn: () => void): void {
    this.tickHooks.push(fn);
  }

  /** Neighbour timers and link carrier: keeps each route's live next hops current. */
  private tick(): void {
    const now = this.now;
    this.lastTick = now;
    for (const h of this.tickHooks) h();
    if (now - this.lastExpire >= this.expireMs) {
      this.lastExpire = now;
      for (const p of this.ports) p.pipeline?.expire?.();
    }
    let changed = false;
    for (const ul of this.underlay) {
      const up = ul.link.isUp();
      if (up !== ul.up) {
        ul.up = up;
        changed = true;
        if (!up) ul.neighbors.failAll(now);
      }
      if (up && ul.neighbors.tick(now, (n, unicast) => this.ndp.solicit(ul, n, unicast))) {
        changed = true;
      }
    }
    if (changed) this.livenessChanged();
  }

  /** Refreshes live next hops and counts hops leaving and rejoining ECMP. */
  protected override livenessChanged(): void {
    this.routes.refresh();
    for (const r of this.routes.routes) {
      const before = this.liveCount.get(r) ?? 0, after = r.live.length;
      if (after < before) this.counters.events[EV["next-hop-down"]] += before - after;
      if (after > before) this.counters.events[EV["next-hop-up"]] += after - before;
      this.liveCount.set(r, after);
    }
  }

  /**
   * Runs the loop until `stop.stopped`: polls while frames flow, otherwise waits up to
   * `idleMs` with `wait` (a readiness primitive of the links in use, see wait.ts). At least
   * every `yieldMs` it lets the event loop run, so control messages (submit) and timers are
   * served even under full load or with a blocking `wait`.
   */
  async run(
    stop: { stopped: boolean },
    wait: (timeoutMs: number) => Promise<unknown> | unknown,
    idleMs = 10,
    yieldMs = 5,
  ): Promise<void> {
    let lastYield = performance.now();
    // A macrotask yield through a message port: setTimeout(0) from a timer callback is clamped
    // to 4 ms (HTML nesting rule, which Deno follows), so the loop slept ~4 ms every 5 ms.
    const ch = new MessageChannel();
    let resume: () => void = () => {};
    ch.port1.onmessage = () => resume();
    const turn = (r: () => void) => {
      resume = r;
      ch.port2.postMessage(0);
    };
    try {
      while (!stop.stopped) {
        if (this.poll() === 0) await wait(Math.min(idleMs, this.tickMs));
        const t = performance.now();
        if (t - lastYield >= yieldMs) {
          await new Promise<void>(turn);
          lastYield = performance.now();
        }
      }
    } finally {
      ch.port1.close();
      ch.port2.close();
    }
  }

  /** Bumped whenever the set of links changes (ports added or removed). */
  get linkVersion(): number {
    return this.linkGen;
  }

  /** Every link the datapath reads (ports first). */
  links(): Link[] {
    return [...this.ports.map((p) => p.link), ...this.underlay.map((u) => u.link)];
  }
}

/** True when `link` fills virtio-net headers on receive (TAP/packet links opened with them). */
function carriesVnet(link: Link): boolean {
  return (link as { vnet?: boolean }).vnet === true;
}
