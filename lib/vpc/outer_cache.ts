// Geneve outer headers per encapsulation destination, built once and shared by every flow to it.
// Only the entropy (UDP source port, IPv6 flow label) differs between flows to one destination:
// the encap transform names it and the engine writes it over the shared bytes per packet. What a
// header depends on is the V2P entry (peer sled, guest MAC: valid while the entry's stamp holds)
// or the boundary endpoint (immutable: a V2B change makes new endpoint objects), plus the port's
// underlay address, VNI and MSS, which never change for one overlay layer. The outer MACs are the
// switch's business (it writes them per packet from the next hop it caches per route generation),
// so route and neighbor changes need nothing here.

import type { BoundaryEndpoint, V2P } from "./mappings.ts";
import { geneveOuterBytes } from "./geneve_outer.ts";

/** What the flows to one V2P entry share. */
export interface VpcOuter {
  /** The V2P entry's stamp when this was built. */
  readonly stamp: number;
  /** The V2P generation when this was built (for the encap transform's staleness check). */
  readonly gen: number;
  /** The V2P key (IPv4 in word 0). */
  readonly words: Uint32Array;
  /** The inner Ethernet rewrite: the destination guest's MAC. */
  readonly innerEther: { readonly dst: Uint8Array };
  /** The outer header with the Oxide MSS option (TCP), built on first use. */
  tcp: Uint8Array | null;
  /** The outer header without options, built on first use. */
  plain: Uint8Array | null;
}

/** One overlay layer's outer headers, per V2P entry and per boundary endpoint. */
export class GeneveOuterCache {
  readonly #vpc: (VpcOuter | undefined)[] = [];
  readonly #boundary = new WeakMap<BoundaryEndpoint, Uint8Array>();

  constructor(private readonly underlay: Uint8Array, private readonly vni: number) {}

  /** What flows to V2P entry `e` (looked up by `words`) share. */
  vpc(v2p: V2P, e: number, words: Uint32Array): VpcOuter {
    const stamp = v2p.stamp(e);
    let d = this.#vpc[e];
    if (d === undefined || d.stamp !== stamp) {
      const mac = new Uint8Array(6);
      v2p.copyMac(e, mac, 0);
      d = {
        stamp,
        gen: v2p.generation,
        words: words.slice(),
        innerEther: { dst: mac },
        tcp: null,
        plain: null,
      };
      this.#vpc[e] = d;
    }
    return d;
  }

  /**
   * The outer header of `d` (just returned by `vpc` for entry `e`): with the MSS option `mss`
   * for TCP (one value per entry: its family fixes it), without options for `mss` -1.
   */
  vpcBytes(v2p: V2P, e: number, d: VpcOuter, mss: number): Uint8Array {
    if (mss >= 0) return d.tcp ??= this.#build(v2p, e, mss);
    return d.plain ??= this.#build(v2p, e, -1);
  }

  /** The shared outer header for flows to boundary endpoint `ep`. */
  boundary(ep: BoundaryEndpoint): Uint8Array {
    let b = this.#boundary.get(ep);
    if (b === undefined) {
      b = geneveOuterBytes({ src: this.underlay, dst: ep.ip, vni: ep.vni, flowHash: 0 });
      this.#boundary.set(ep, b);
    }
    return b;
  }

  #build(v2p: V2P, e: number, mss: number): Uint8Array {
    const dst = new Uint8Array(16);
    v2p.copyUnderlay(e, dst, 0);
    return geneveOuterBytes({ src: this.underlay, dst, vni: this.vni, flowHash: 0, mss });
  }
}
