// CLI verbs about NAT: a port's external IPs.

import { ApiError } from "../client.ts";
import { enc, type Row, type Verb } from "./common.ts";

/** NAT verbs: a port's external IPs. */
export const NAT_VERBS: Record<string, Verb> = {
  "set-external-ips": {
    summary: "set a port's SNAT/ephemeral/floating IPs",
    usage: "set-external-ips PORT [--snat IP:FIRST-LAST] [--ephemeral IP,...] [--floating IP,...]",
    port: true,
    options: ["snat", "ephemeral", "floating"],
    args: 1,
    async run(c, [port], o) {
      const body: Row = {};
      if (typeof o.snat === "string") {
        const m = /^(.*):(\d+)-(\d+)$/.exec(o.snat);
        if (!m) throw new ApiError(2, "--snat: expected IP:FIRST-LAST");
        body.snat = { ip: m[1].replace(/^\[|\]$/g, ""), ports: [Number(m[2]), Number(m[3])] };
      }
      for (const k of ["ephemeral", "floating"]) {
        if (typeof o[k] === "string") body[k] = (o[k] as string).split(",");
      }
      return {
        data: await c.call("PUT", `/v1/ports/${enc(port)}/external-ips`, body),
        table: () => `set external IPs of ${port}`,
      };
    },
  },
};
