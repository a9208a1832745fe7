// Scenario harness: VPC ports on in-memory "sleds", frames in and out as bytes, and a log of
// every emitted frame for the tshark pass at the end of each scenario.

import assert from "node:assert/strict";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { HEADROOM } from "../../lib/link/link.ts";
import {
  DIR_IN,
  DIR_OUT,
  loadPacket,
  Packet,
  RES_DROP,
  RES_ERROR,
  RES_HAIRPIN,
  RES_MODIFIED,
} from "../../lib/engine/packet.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import type { VpcPortConfig } from "../../lib/vpc/config.ts";
import { type VpcPort, vpcPort } from "../../lib/vpc/vpc_port.ts";
import { cat, hex, ip6 } from "./frames.ts";
import { assertTsharkClean } from "./tshark.ts";
import { expectedFlowHashOf } from "../flow_hash.ts";

export const SLED1 = "fd00:1::1";
export const SLED2 = "fd00:2::1";
export const BOUNDARY = "fd00:99::1";
export const GW_MAC = "a8:40:25:ff:77:77";

/** What a port did with one frame. */
export interface Outcome {
  code: number;
  /** The emitted frame (transformed packet or hairpin reply); null when dropped. */
  frame: Uint8Array | null;
  reason: string;
  layer: string;
  fastPath: boolean;
}

/** A scenario: shared mappings, a settable clock, ports, and every frame seen. */
export class Scenario {
  readonly mappings = new Mappings();
  now = 0;
  readonly frames: Uint8Array[] = [];
  readonly #pkt = new Packet();
  readonly #buf = new Uint8Array(HEADROOM + 9216);

  /** A port on this scenario's clock and mappings. */
  port(c: Omit<VpcPortConfig, "mappings" | "clock">): VpcPort {
    return vpcPort({ ...c, mappings: this.mappings, clock: () => this.now });
  }

  /** Runs `frame` through `port` in `dir`; logs input and output for tshark. */
  send(port: VpcPort, dir: "out" | "in", frame: Uint8Array): Outcome {
    this.frames.push(frame);
    const buf = this.#buf, pkt = this.#pkt;
    buf.set(frame, HEADROOM);
    const err = loadPacket(pkt, buf, HEADROOM, frame.length);
    assert.equal(err, null, `test frame does not parse: ${JSON.stringify(err)}`);
    const code = port.process(dir === "out" ? DIR_OUT : DIR_IN, pkt);
    const r = port.result;
    let out: Uint8Array | null = null;
    if (code === RES_MODIFIED) out = pkt.bytes();
    else if (code === RES_HAIRPIN) out = r.hairpin!.slice();
    if (out) this.frames.push(out);
    return { code, frame: out, reason: r.reason, layer: r.layer, fastPath: r.fastPath };
  }

  /** Asserts, as a step of `t`, every frame of the scenario passes tshark with checksums on. */
  async tshark(t: Deno.TestContext, what: string): Promise<void> {
    await assertTsharkClean(t, this.frames, what);
  }
}

/** Asserts an outcome is a drop (optionally for `reason`). */
export function assertDropped(o: Outcome, reason?: string): void {
  assert.equal(o.code, RES_DROP, `expected a drop, got code ${o.code} (${o.reason})`);
  if (reason !== undefined) assert.equal(o.reason, reason);
}

/** Asserts the packet went through and returns the emitted frame. */
export function assertPassed(o: Outcome): Uint8Array {
  assert.equal(
    o.code,
    RES_MODIFIED,
    `expected the packet to pass, got code ${o.code}: ${o.layer} ${o.reason}`,
  );
  return o.frame!;
}

/** Asserts a hairpin reply and returns it. */
export function assertHairpin(o: Outcome): Uint8Array {
  assert.equal(
    o.code,
    RES_HAIRPIN,
    `expected a hairpin, got code ${o.code}: ${o.layer} ${o.reason}`,
  );
  return o.frame!;
}

export { RES_ERROR };

/** The flow hash of a frame's headers (inner when encapsulated), computed independently. */
export function flowHashOf(frame: Uint8Array, inner = false): number {
  return expectedFlowHashOf(frame, inner);
}

/**
 * The outer headers the VPC must push, written out independently: zero MACs, IPv6 (flow label
 * = hash & 0xfffff, hop limit 255), UDP from 0xc000 | folded hash to 6081 with checksum 0,
 * Geneve version 0, protocol 0x6558, the VNI and the options given as hex.
 */
export function expectedOuter(
  src: string,
  dst: string,
  vni: number,
  hash: number,
  innerLen: number,
  optionsHex = "",
): Uint8Array {
  const opts = hex(optionsHex);
  const udpLen = 8 + 8 + opts.length + innerLen;
  const sport = 0xc000 | ((hash ^ (hash >>> 16)) & 0x3fff);
  const fl = hash & 0xfffff;
  return cat(
    hex("000000000000 000000000000 86dd"),
    Uint8Array.of(
      0x60,
      fl >>> 16,
      (fl >>> 8) & 0xff,
      fl & 0xff,
      udpLen >>> 8,
      udpLen & 0xff,
      17,
      255,
    ),
    ip6(src),
    ip6(dst),
    Uint8Array.of(sport >>> 8, sport & 0xff, 0x17, 0xc1, udpLen >>> 8, udpLen & 0xff, 0, 0),
    Uint8Array.of(opts.length / 4, 0, 0x65, 0x58, vni >>> 16, (vni >>> 8) & 0xff, vni & 0xff, 0),
    opts,
  );
}

/** A Geneve frame from `srcUnderlay` to `dstUnderlay` carrying `inner` (built by build.ts). */
export function geneveFrame(
  srcUnderlay: string,
  dstUnderlay: string,
  vni: number,
  inner: LayerSpec[],
  options: { class: number; type: number; critical?: boolean; data?: Uint8Array }[] = [],
): Uint8Array {
  return buildFrame([
    { type: "ethernet", src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02" },
    { type: "ipv6", src: srcUnderlay, dst: dstUnderlay, hopLimit: 255 },
    { type: "udp", srcPort: 50000, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni, options },
    ...inner,
  ]);
}

/** The inner frame of a Geneve frame with an outer IPv6 header and `optLen` option bytes. */
export function innerOf(frame: Uint8Array): Uint8Array {
  const optLen = (frame[62] & 0x3f) * 4;
  return frame.slice(70 + optLen);
}

export { buildFrame, DIR_IN, DIR_OUT };
