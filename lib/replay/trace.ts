// The per-layer decisions replay reports for each input packet: the same answer POST /v1/trace
// gives (a side-effect-free run through the pipeline of the port the packet meets), asked just
// before the live switch takes the packet. Kept behind this one function so replay follows
// whatever /v1/trace becomes.

import type { AdminDatapath, TraceResult } from "../admin/datapath.ts";
import { PacketMeta } from "../packet/meta.ts";
import { parseFrame } from "../packet/parse.ts";
import { addrWordsInto, type Cidr, cidrContains, parseCidr } from "../vpc/ip.ts";
import type { Switch } from "../switch/switch.ts";
import type { Ingress } from "./input.ts";

/** One layer's decision, as /v1/trace reports it. */
export type TraceLayer = TraceResult["layers"][number];

/** Finds the port and direction whose pipeline a packet meets, and traces it there. */
export class ReplayTracer {
  private readonly meta = new PacketMeta();
  private readonly words = new Uint32Array(4);
  private readonly underlay: Cidr;

  constructor(
    private readonly dp: AdminDatapath,
    private readonly sw: Switch,
    underlayPrefix: string,
  ) {
    this.underlay = parseCidr(underlayPrefix)!;
  }

  /** The decisions for `frame` entering at `ing`; [] when it meets no VPC pipeline. */
  async layers(ing: Ingress, frame: Uint8Array): Promise<TraceLayer[]> {
    const target = this.target(ing, frame);
    if (!target || !this.dp.trace) return [];
    try {
      return (await this.dp.trace({ ...target, frame })).layers;
    } catch {
      return [];
    }
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
    if (!m.encap || m.inner.ether < 0) return null;
    const dst = frame.subarray(m.inner.ether, m.inner.ether + 6);
    const p = this.sw.ports.find((x) =>
      x.pipeline && x.vni === m.vni && x.mac.every((b, i) => b === dst[i])
    );
    return p ? { port: p.name, direction: "in" } : null;
  }

  private inUnderlay(frame: Uint8Array, l3: number): boolean {
    addrWordsInto(frame.subarray(l3 + 24, l3 + 40), this.words);
    return cidrContains(this.underlay, 6, this.words);
  }
}
