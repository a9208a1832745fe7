// Replay's inputs checked before anything runs: the capture (pcapng, each packet entering where
// its interface's if_name says) and the steps file (admin API calls at times). Every problem is
// one line naming the file, the block or step, and the field; nothing is replayed then.

import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { zodProblems } from "../config/load.ts";
import { isParseError } from "../packet/error.ts";
import { readPcapFile } from "../packet/pcap.ts";
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

/** One capture file: a pcapng naming its interfaces, or (`as`) any capture entering at `as`. */
export interface InputSource {
  file: string;
  bytes: Uint8Array;
  /** Every packet of the file enters here (classic pcap from `xdeno capture`, or pcapng). */
  as?: string;
}

interface Raw {
  timeNs: bigint;
  ingress: Ingress;
  data: Uint8Array;
}

function unknownName(at: string, name: string, names: ReadonlyMap<string, Ingress>): never {
  throw new ReplayInputError(
    `${at}: "${name}" is neither a port nor an underlay link of the config ` +
      `(known: ${[...names.keys()].join(", ")})`,
  );
}

/** The packets of a pcapng, each entering where its interface's if_name says. */
function fromPcapng(
  file: string,
  bytes: Uint8Array,
  names: ReadonlyMap<string, Ingress>,
  as?: string,
): Raw[] {
  const f = readPcapngFile(bytes);
  if (isParseError(f)) {
    throw new ReplayInputError(`${file}: ${f.at}: ${f.kind} (block at byte ${f.offset})`);
  }
  const where = f.interfaces.map((iface, i) => {
    const at = `${file}: pcapng.idb[${i}]`;
    if (iface.linkType !== 1) {
      throw new ReplayInputError(`${at}.linktype: ${iface.linkType} is not Ethernet (1)`);
    }
    if (as !== undefined) return names.get(as)!;
    if (iface.name === null) {
      throw new ReplayInputError(
        `${at}.if_name: missing (name the port or underlay link the packets enter by)`,
      );
    }
    return names.get(iface.name) ?? unknownName(`${at}.if_name`, iface.name, names);
  });
  return f.packets.map((p) => ({ timeNs: p.timeNs, ingress: where[p.iface], data: p.data }));
}

/** The records of a classic pcap, all entering at `as`. */
function fromPcap(file: string, bytes: Uint8Array, ing: Ingress): Raw[] {
  const f = readPcapFile(bytes);
  if (isParseError(f)) {
    throw new ReplayInputError(`${file}: ${f.at}: ${f.kind} (at byte ${f.offset})`);
  }
  if (f.linkType !== 1) {
    throw new ReplayInputError(`${file}: pcap.linktype: ${f.linkType} is not Ethernet (1)`);
  }
  return f.records.map((r) => ({
    timeNs: BigInt(r.timeMicros) * 1000n,
    ingress: ing,
    data: r.data,
  }));
}

/**
 * Reads the capture files; `names` maps every accepted interface name to where it enters.
 * Frames are numbered in the order given (file by file), then ordered by time (stably).
 */
export function readReplayInput(
  sources: InputSource[],
  names: ReadonlyMap<string, Ingress>,
): ReplayInput {
  const raw: Raw[] = [];
  for (const src of sources) {
    const isPcapng = src.bytes.length >= 4 &&
      new DataView(src.bytes.buffer, src.bytes.byteOffset).getUint32(0) === 0x0a0d0d0a;
    if (src.as === undefined || isPcapng) {
      raw.push(...fromPcapng(src.file, src.bytes, names, src.as));
    } else {
      const ing = names.get(src.as) ?? unknownName(`${src.as}=${src.file}`, src.as, names);
      raw.push(...fromPcap(src.file, src.bytes, ing));
    }
  }
  const epochNs = raw.length
    ? raw.reduce((m, p) => p.timeNs < m ? p.timeNs : m, raw[0].timeNs)
    : 0n;
  const packets = raw.map((p, i) => ({
    frame: i + 1,
    t: p.timeNs - epochNs,
    ingress: p.ingress,
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
