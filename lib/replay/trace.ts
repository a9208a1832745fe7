// The per-layer decisions replay reports for each input packet: the same answer POST /v1/trace
// gives (a side-effect-free walk of the live switch and the pipelines the packet meets), asked
// just before the live switch takes the packet, so it reflects the flow tables of that moment.
// Kept behind this one class so replay follows whatever /v1/trace becomes.

import type { AdminDatapath, TraceResult } from "../contract/datapath.ts";
import { PacketMeta } from "../packet/meta.ts";
import { parseFrame } from "../packet/parse.ts";
import { addrWordsInto, type Cidr, cidrContains, parseCidr } from "../packet/addr.ts";
import type { Switch } from "../switch/switch.ts";
import type { Ingress } from "./input.ts";

/** One layer's decision as /v1/trace reports it, with the port and direction it was made at. */
export type TraceLayer = TraceResult["layers"][number] & { port: string; direction: "in" | "out" };

type Target = { port: string; direction: "in" | "out" };

/** Finds the port and direction whose pipeline a packet meets, and traces it there. */
export class ReplayTracer {
  private readonly meta = new PacketMeta();
  private readonly words = new Uint32Array(4);
  private readonly underlay: Cidr;

  constructor(
    private readonly dp: AdminDatapath,
    private readonly sw: Switch,
    sled: { underlayPrefix: string; underlayAddress: string },
  ) {
    this.underlay = parseCidr(sled.underlayPrefix)!;
  }

  /**
   * The decisions for `frame` entering at `ing`; [] when it meets no VPC pipeline. A frame one
   * guest sends to another on this sled shows the receiving port's inbound decisions too (where,
   * for example, its firewall drops it).
   */
  layers(ing: Ingress, frame: Uint8Array): Promise<TraceLayer[]> {
    const target = this.target(ing, frame);
    if (!target || !this.dp.trace) return Promise.resolve([]);
    return this.follow(target, frame);
  }

  /**
   * One trace of the live switch: it follows the frame itself (Geneve loopback into a receiving
   * port's inbound pipeline, local delivery), so each decision names the port and direction
   * where it was made.
   */
  private async follow(t: Target, frame: Uint8Array): Promise<TraceLayer[]> {
    let ans: TraceResult;
    try {
      ans = await this.dp.trace!({ ...t, frame });
    } catch {
      return [];
    }
    return ans.layers.map((l) => ({
      ...l,
      port: l.port ?? t.port,
      direction: l.dir === "in" || l.dir === "out" ? l.dir : t.direction,
    }));
  }

  private target(
    ing: Ingress,
    frame: Uint8Array,
  ): { port: string; direction: "in" | "out" } | null {
    const m = this.meta;
    if (parseFrame(frame, 0, frame.length, m) !== null) return null;
    if (ing.kind === "port") {
      const p = this.sw.port(ing.name);
      if (!p?.pipeline) return null;
      // A system zone's underlay traffic passes through; only the rest meets its pipeline.
      if (p.kind === "system" && m.outer.ipVersion === 6 && this.inUnderlay(frame, m.outer.l3)) {
        return null;
      }
      return { port: ing.name, direction: "out" };
    }
    if (!m.encap) return null;
    const p = this.portByMac(frame, m.inner.ether, m.vni);
    return p ? { port: p, direction: "in" } : null;
  }

  private portByMac(frame: Uint8Array, at: number, vni: number): string | null {
    if (at < 0) return null;
    const dst = frame.subarray(at, at + 6);
    const p = this.sw.ports.find((x) =>
      x.pipeline && x.vni === vni && x.mac.every((b, i) => b === dst[i])
    );
    return p?.name ?? null;
  }

  private inUnderlay(frame: Uint8Array, l3: number): boolean {
    addrWordsInto(frame.subarray(l3 + 24, l3 + 40), this.words);
    return cidrContains(this.underlay, 6, this.words);
  }
}
