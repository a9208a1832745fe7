// The multi-port sled switch: configuration, the port and route tables, typed control commands
// applied between batches, neighbour timers, and the datapath loop (batched receive → process
// → batched send over every Link).

import { CaptureLink } from "../link/capture.ts";
import { HEADROOM, type Link, type LinkWait, MAX_FRAME, VNET_HDR_LEN } from "../link/link.ts";
import { FrameBatch } from "../link/link.ts";
import { ipv6ToString, macToString } from "../packet/bytes.ts";
import * as mcast from "./mcast_control.ts";
import {
  applyCommand,
  CommandQueue,
  describePorts,
  describeRoutes,
  type McastNextHopSpec,
  type NextHopSpec,
  type PortDescription,
  type RouteDescription,
  type SwitchCommand,
} from "./control.ts";

export type { McastNextHopSpec, NextHopSpec, SwitchCommand };
export type { SwitchConfig, UnderlayLinkSpec } from "./switch_config.ts";
import type { SwitchConfig } from "./switch_config.ts";
import { releasePipeline } from "./overlay.ts";
import { DROP, type SwitchCounters } from "./counters.ts";
import { Datapath } from "./datapath.ts";
import { eui64LinkLocal } from "../packet/addr.ts";
import { DEFAULT_NUD, NeighborCache } from "./neighbor.ts";
import { mustIpv6, mustMac, mustPrefix, type PortSpec, SwitchPort } from "./port.ts";
import { releaseHops, Route, type RouteTable, type UnderlayLink } from "./routes.ts";
import { Housekeeping } from "./housekeeping.ts";
import type { KeyTable } from "./keytable.ts";
import type { Multicast } from "./multicast.ts";
import type { Ndp } from "./ndp.ts";
import type { OverlayPath } from "./overlay.ts";
import { Segmenter } from "./segment.ts";
import { TxQueue } from "./txq.ts";
import { MacrotaskTurn, ReadySet, TurnPacer, type TurnPacing } from "./ready.ts";
import { InvalidField } from "../contract/field_error.ts";

/** The sled's switch. */
export class Switch {
  /** Per-frame decisions and the tables they read (held, not inherited: the switch drives it). */
  readonly dp: Datapath;
  readonly counters: SwitchCounters;
  readonly routes: RouteTable;
  readonly ov: OverlayPath;
  readonly mc: Multicast;
  readonly ndp: Ndp;
  readonly byMac: KeyTable<SwitchPort>;
  readonly byAddr: KeyTable<SwitchPort>;
  readonly gatewayMac: Uint8Array;
  readonly gatewayLinkLocal: Uint8Array;
  readonly underlayPrefix: Uint8Array;
  readonly underlayPrefixLen: number;
  readonly ports: SwitchPort[] = [];
  readonly underlay: UnderlayLink[] = [];
  private readonly byName = new Map<string, SwitchPort>();
  private readonly rx: FrameBatch;
  private readonly clock: () => number;
  private readonly batchSize: number;
  private readonly frameSize: number;
  /** True when frames carry virtio-net headers (SwitchConfig.vnet). */
  readonly vnet: boolean;
  private readonly house: Housekeeping;
  private linkGen = 0;
  private ulMtu = 1500;
  private nowMs = 0;
  /** The last internal error a frame caused (a bug), for diagnostics; null when none. */
  lastError: string | null = null;
  private readonly commands = new CommandQueue();
  private readonly ready = new ReadySet();

  constructor(cfg: SwitchConfig) {
    const gwMac = mustMac(cfg.gatewayMac ?? "a8:40:25:ff:77:77", "gatewayMac");
    const gwLL = cfg.gatewayLinkLocal
      ? mustIpv6(cfg.gatewayLinkLocal, "gatewayLinkLocal")
      : eui64LinkLocal(gwMac);
    const { prefix, len } = mustPrefix(cfg.underlayPrefix, "underlayPrefix");
    const dp = this.dp = new Datapath(
      gwMac,
      gwLL,
      prefix,
      len,
      mustIpv6(cfg.sledAddress, "sledAddress"),
      cfg.raLifetime ?? 1800,
      // Links are fixed: the smallest underlay MTU is computed once, below.
      { minUnderlayMtu: () => this.ulMtu, livenessChanged: () => this.house.livenessChanged() },
    );
    this.counters = dp.counters, this.routes = dp.routes, this.ov = dp.ov, this.mc = dp.mc;
    this.ndp = dp.ndp, this.byMac = dp.byMac, this.byAddr = dp.byAddr;
    this.gatewayMac = gwMac, this.gatewayLinkLocal = gwLL;
    this.underlayPrefix = prefix, this.underlayPrefixLen = len;
    this.clock = cfg.clock ?? (() => performance.now());
    this.batchSize = cfg.batch ?? 32;
    this.vnet = cfg.vnet === true;
    this.frameSize = cfg.frameSize ?? (this.vnet ? MAX_FRAME : 16384) + HEADROOM;
    const tickMs = cfg.tickMs ?? 20;
    this.house = new Housekeeping(dp, this.ports, this.underlay, tickMs, cfg.expireMs ?? 1000);
    this.rx = new FrameBatch(this.batchSize, this.frameSize, { vnet: this.vnet });
    // Up to 64 segments of a 64 KiB super-frame (MSS ≥ 1024); buffers swap with transmit queues.
    if (this.vnet) dp.seg = new Segmenter(64, this.frameSize);
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
      const link = new CaptureLink(u.link);
      this.underlay.push({
        link,
        linkLocal: u.linkLocal
          ? mustIpv6(u.linkLocal, `underlay[${i}].linkLocal`)
          : eui64LinkLocal(link.mac),
        neighbors: new NeighborCache(nud),
        tx: new TxQueue(link, this.batchSize, this.frameSize, this.vnet, this.counters.drops),
        up: link.isUp(),
      });
    });
    const mtus = this.underlay.map((u) => u.link.mtu);
    if (mtus.length > 0) this.ulMtu = Math.min(...mtus);
  }

  /** Monotonic ms of the current pass. */
  get now(): number {
    return this.dp.now;
  }

  /** Monotonic whole ms of the current pass: the clock to give every pipeline (one read a batch). */
  readonly batchClock = (): number => this.nowMs;

  /** Adds a port; throws (changing nothing) when its name, MAC or an address is taken. */
  addPort(spec: PortSpec): SwitchPort {
    if (this.byName.has(spec.name)) {
      throw new InvalidField(`ports.${spec.name}`, "name already in use");
    }
    const link = new CaptureLink(spec.link);
    const port = new SwitchPort(
      spec,
      link,
      new TxQueue(link, this.batchSize, this.frameSize, this.vnet, this.counters.drops),
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
      if (!ul) {
        throw new InvalidField(
          `route.nextHops[${i}].link`,
          `no underlay link ${h.link} (route ${prefix})`,
        );
      }
      return { ul, addr: mustIpv6(h.via, `route.nextHops[${i}].via`) };
    }).map(({ ul, addr }) => ({ ul, neighbor: ul.neighbors.acquire(addr) }));
    const route = new Route(p.prefix, p.len, hops);
    const old = this.routes.set(route);
    if (old) releaseHops(old);
    this.house.routeSet(route, old ?? null);
  }

  /** Removes the route for exactly `prefix`; false when there is none. */
  removeRoute(prefix: string): boolean {
    const p = mustPrefix(prefix, "route.prefix");
    const old = this.routes.remove(p.prefix, p.len);
    if (!old) return false;
    releaseHops(old);
    this.house.routeRemoved(old);
    return true;
  }

  /** Maps overlay multicast group `group` (IPv4 or IPv6) to an ff04::/16 underlay group. */
  setM2p(group: string, underlay: string): void {
    mcast.setM2p(this.mc, group, underlay);
  }

  /** Removes an M2P mapping and its subscriptions; false when unknown. */
  clearM2p(group: string): boolean {
    return mcast.clearM2p(this.mc, group);
  }

  /** Subscribes a port to an overlay group. */
  subscribe(port: string, group: string): void {
    mcast.subscribe(this.mc, this.byName.get(port), port, group);
  }

  /** Unsubscribes a port from an overlay group; false when it was not subscribed. */
  unsubscribe(port: string, group: string): boolean {
    return mcast.unsubscribe(this.mc, this.byName.get(port), group);
  }

  /** Sets where copies of an underlay group go (one Geneve copy per next hop). */
  setMcastForwarding(underlay: string, nextHops: McastNextHopSpec[]): void {
    mcast.setMcastForwarding(this.mc, underlay, nextHops);
  }

  /** Queues a command for the datapath; resolves once applied between two batches. */
  submit(cmd: SwitchCommand): Promise<void> {
    return this.commands.submit(cmd);
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

  /**
   * One pass: commands, timers, one batch from every link, then every queue flushed. With
   * `onlyReady`, reads only the links flagged in `readyFlags()` (what poll(2) found readable,
   * links whose last batch was full, and links without an fd).
   */
  poll(onlyReady = false): number {
    this.commands.drain(this);
    const now = this.dp.now = this.clock();
    this.nowMs = Math.floor(now);
    this.house.due(now);
    const rx = this.rx, rs = this.ready, cap = rx.capacity;
    const ready = onlyReady ? this.readyFlags() : null;
    let total = 0, kept = 0;
    const ports = this.ports;
    for (let k = 0; k < ports.length; k++) {
      const port = ports[k];
      if (port.paused || (ready !== null && ready[k] === 0)) continue;
      const max = ready === null ? cap : rs.max(k, port.link.boundedRecv, cap);
      const n = port.link.recv(rx, max);
      if (ready !== null) kept += rs.after(k, port.link.fd, n, max, cap);
      if (rx.vnet !== null && n > 0 && port.link.vnet !== true) {
        rx.vnet.fill(0, 0, n * VNET_HDR_LEN);
      }
      // i === n: the end of the port's batch sends the train held back from it (gro_out.ts).
      for (let i = 0; i <= n; i++) {
        try {
          if (i < n) this.dp.fromPort(port, rx, i);
          else this.dp.train.flush(rx);
        } catch (e) {
          this.internalError(e);
        }
      }
      total += n;
    }
    const uls = this.underlay, base = ports.length;
    for (let k = 0; k < uls.length; k++) {
      const ul = uls[k];
      if (ready !== null && ready[base + k] === 0) continue;
      const max = ready === null ? cap : rs.max(base + k, ul.link.boundedRecv, cap);
      const n = ul.link.recv(rx, max);
      if (ready !== null) kept += rs.after(base + k, ul.link.fd, n, max, cap);
      if (rx.vnet !== null && n > 0 && ul.link.vnet !== true) rx.vnet.fill(0, 0, n * VNET_HDR_LEN);
      for (let i = 0; i < n; i++) {
        try {
          this.dp.fromUnderlay(ul, rx, i);
        } catch (e) {
          this.internalError(e);
        }
      }
      total += n;
    }
    this.ready.kept = kept;
    this.flush();
    return total;
  }

  /**
   * Per-link read flags in `links()` order for `poll(true)`; a waiter sets those of polled
   * links from poll(2). All set again whenever the links change.
   */
  readyFlags(): Uint8Array {
    return this.ready.at(this.linkGen, this.ports.length + this.underlay.length);
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

  /** Runs `fn` on every timer pass, between batches (fds to watch go to the waiter instead). */
  onTick(fn: () => void): void {
    this.house.onTick(fn);
  }

  /**
   * Runs the loop until `stop.stopped`: polls while frames flow, otherwise waits up to
   * `idleMs` with `wait` (a readiness primitive of the links in use, e.g. lib/link/wait.ts). It
   * lets the event loop run (control messages, timers) when `pace` says so (ready.ts): a turn
   * costs ~100 µs in a Worker, and taken right after a wake-up it delayed the frame that woke us.
   */
  async run(
    stop: { stopped: boolean },
    wait: LinkWait,
    idleMs = 10,
    pace: TurnPacing = {},
  ): Promise<void> {
    const pacer = new TurnPacer(pace);
    const onlyReady = wait.marksReady === true;
    const turn = new MacrotaskTurn();
    try {
      while (!stop.stopped) {
        const n = this.poll(onlyReady);
        if (pacer.due(n)) {
          // Frames that arrived during the turn are read by the next pass before any wait.
          await turn.next();
          pacer.taken();
        } else if (n === 0) await wait(Math.min(idleMs, this.house.tickMs));
        else if (this.ready.kept > 0) {
          // A link that fills every batch would keep the loop from waiting, so the other
          // links' readiness would never be looked at: look now, without blocking.
          const w = wait(0);
          if (w !== undefined) await w;
        }
      }
    } finally {
      turn.close();
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
