// CLI capture: a pcap of a port's or underlay link's frames.

import { ApiError } from "../client.ts";
import { enc, type Verb } from "./common.ts";

/** Capture: a pcap of a port's or underlay link's frames. */
export const CAPTURE_VERBS: Record<string, Verb> = {
  capture: {
    summary: "stream a pcap of a port's (or --link's) frames to stdout",
    usage: "capture PORT [--count N] [--seconds S] [--direction in|out|both] [--link] > x.pcap",
    port: true,
    options: ["count", "seconds", "direction"],
    flags: ["link"],
    args: 1,
    async run(c, [name], o) {
      if (o.json) {
        throw new ApiError(2, "--json: capture writes a pcap; pipe it to `xdeno decode` for JSON");
      }
      if (Deno.stdout.isTerminal()) {
        throw new ApiError(2, "writes a pcap to stdout: redirect it to a file or pipe");
      }
      const q = new URLSearchParams();
      for (const k of ["count", "seconds", "direction"]) {
        if (typeof o[k] === "string") q.set(k, o[k] as string);
      }
      const body = await c.stream(`/v1/${o.link ? "links" : "ports"}/${enc(name)}/capture?${q}`);
      await body.pipeTo(Deno.stdout.writable, { preventClose: true });
      return { data: null, raw: true };
    },
  },
};
