// Replay's inputs checked before anything runs: the capture (pcapng, each packet entering where
// its interface's if_name says) and the steps file (admin API calls at times). Every problem is
// one line naming the file, the block or step, and the field; nothing is replayed then.

import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { zodProblems } from "../config/load.ts";
import { isParseError } from "../packet/error.ts";
import { readPcapngFile } from "../packet/pcapng.ts";

/** Where a packet enters: a port's client (direction out) or an underlay link (from the rack). */
export interface Ingress {
  kind: "port" | "link";
  name: string;
}

/** One input packet, in time order. */
export interface InputPacket {
  /** 1-based, in the input's order. */
  frame: number;
  /** Nanoseconds since the first packet. */
  t: bigint;
  ingress: Ingress;
  data: Uint8Array;
}

/** The capture, ready to replay. */
export interface ReplayInput {
  /** Capture time of the first packet (ns since the epoch): output stamps are this + t. */
  epochNs: bigint;
  packets: InputPacket[];
  /**
   * Per underlay link, the destination of the first unicast frame arriving on it: the MAC the
   * captured sled's link had, which replay's link takes so that those frames are accepted.
   */
  linkMacs: Map<string, Uint8Array>;
}

/** A problem with an input file: printed as is, exit status 2. */
export class ReplayInputError extends Error {}

/**
 * Reads `bytes` (the file `file`) as pcapng; `names` maps every accepted interface name to where
 * it enters. Packets are ordered by time (stably: equal times keep the file's order).
 */
export function readReplayInput(
  file: string,
  bytes: Uint8Array,
  names: ReadonlyMap<string, Ingress>,
): ReplayInput {
  const f = readPcapngFile(bytes);
  if (isParseError(f)) {
    throw new ReplayInputError(`${file}: ${f.at}: ${f.kind} (block at byte ${f.offset})`);
  }
  const where = f.interfaces.map((iface, i) => {
    const at = `${file}: pcapng.idb[${i}]`;
    if (iface.linkType !== 1) {
      throw new ReplayInputError(`${at}.linktype: ${iface.linkType} is not Ethernet (1)`);
    }
    if (iface.name === null) {
      throw new ReplayInputError(
        `${at}.if_name: missing (name the port or underlay link the packets enter by)`,
      );
    }
    const ing = names.get(iface.name);
    if (!ing) {
      throw new ReplayInputError(
        `${at}.if_name: "${iface.name}" is neither a port nor an underlay link of the config ` +
          `(known: ${[...names.keys()].join(", ")})`,
      );
    }
    return ing;
  });
  const epochNs = f.packets.length
    ? f.packets.reduce((m, p) => p.timeNs < m ? p.timeNs : m, f.packets[0].timeNs)
    : 0n;
  const packets = f.packets.map((p, i) => ({
    frame: i + 1,
    t: p.timeNs - epochNs,
    ingress: where[p.iface],
    data: p.data,
  }));
  packets.sort((a, b) => a.t < b.t ? -1 : a.t > b.t ? 1 : a.frame - b.frame);
  const linkMacs = new Map<string, Uint8Array>();
  for (const p of packets) {
    const unicast = p.data.length >= 14 && (p.data[0] & 1) === 0;
    if (p.ingress.kind === "link" && unicast && !linkMacs.has(p.ingress.name)) {
      linkMacs.set(p.ingress.name, p.data.slice(0, 6));
    }
  }
  return { epochNs, packets, linkMacs };
}

const Step = z.strictObject({
  at: z.number().min(0).refine(Number.isFinite, "must be a finite number of seconds"),
  method: z.enum(["GET", "POST", "PUT", "DELETE"]),
  path: z.string().regex(/^\/v1\//, "must be an admin API path starting with /v1/").refine(
    (p) => !/\/capture(\?|$)/.test(p),
    "captures stream forever; replay writes every frame with -o instead",
  ),
  body: z.unknown().optional(),
});

/** One admin API call made at `at` seconds. */
export type ReplayStep = z.infer<typeof Step> & { step: number };

/** Parses a steps file (a YAML list); steps are ordered by time, stably. */
export function readSteps(file: string, text: string): ReplayStep[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ReplayInputError(`${file}: not YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return [];
  const r = z.array(Step).safeParse(doc);
  if (!r.success) {
    const p = zodProblems(r.error.issues)[0];
    const path = p.path === "(top level)"
      ? "steps"
      : `steps${p.path.startsWith("[") ? "" : "."}${p.path}`;
    throw new ReplayInputError(`${file}: ${path}: ${p.message}`);
  }
  const steps = r.data.map((s, i) => ({ ...s, step: i + 1 }));
  return steps.sort((a, b) => a.at - b.at || a.step - b.step);
}
