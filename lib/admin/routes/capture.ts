// GET /v1/ports/{name}/capture and /v1/links/{name}/capture: a pcap stream of the frames a
// port or underlay link carries, until `count` frames, `seconds` elapsed or the client leaves.

import { createRoute, z } from "@hono/zod-openapi";
import { getLogger } from "@logtape/logtape";
import { PcapWriter } from "../../packet/pcap.ts";
import { linkName } from "../../config/fields.ts";
import type { AdminApp } from "../app.ts";
import type { Control } from "../control.ts";
import { ControlError } from "../control.ts";
import type { CaptureTarget } from "../../contract/datapath.ts";
import { ERRORS, UNSUPPORTED } from "./common.ts";

const Query = z.object({
  count: z.coerce.number().int().min(0).max(10_000_000).default(0),
  seconds: z.coerce.number().min(0.01).max(86400).default(60),
  direction: z.enum(["in", "out", "both"]).default("both"),
});

const log = getLogger(["xdeno", "capture"]);

/** Bytes of pcap a capture may hold for a slow client before it drops records. */
export const CAPTURE_BACKLOG_BYTES = 8 << 20;

/** Maps an API direction to the tap's view: see AdminDatapath.tap. */
function tapDirection(kind: CaptureTarget["kind"], d: "in" | "out" | "both"): "rx" | "tx" | "both" {
  if (d === "both") return "both";
  if (kind === "port") return d === "out" ? "rx" : "tx";
  return d === "in" ? "rx" : "tx";
}

/** Registers the capture routes. */
export function captureRoutes(app: AdminApp, ctl: Control): void {
  for (const kind of ["port", "link"] as const) {
    app.openapi(
      createRoute({
        method: "get",
        path: `/v1/${kind}s/{name}/capture`,
        tags: ["capture"],
        request: { params: z.object({ name: linkName }), query: Query },
        responses: {
          200: {
            description: "pcap stream (LINKTYPE_ETHERNET)",
            content: {
              "application/vnd.tcpdump.pcap": { schema: z.string().openapi({ format: "binary" }) },
            },
          },
          ...ERRORS,
          ...UNSUPPORTED,
        },
      }),
      (c) => {
        const { name } = c.req.valid("param");
        const q = c.req.valid("query");
        const dp = ctl.datapath;
        if (!dp.tap) return c.json({ error: `${dp.platform} datapath cannot capture` }, 501);
        let detach: (() => void) | null = null;
        // Ends the capture after `seconds`; detaching closes the stream through onDone.
        const timer = setTimeout(() => detach?.(), q.seconds * 1000);
        let ctrl!: ReadableStreamDefaultController<Uint8Array>;
        let open = true;
        let dropped = 0;
        const finish = () => {
          if (!open) return;
          open = false;
          clearTimeout(timer);
          if (dropped > 0) {
            log.warn("capture of {name} dropped {dropped} frames", { name, dropped });
          }
          try {
            ctrl.close();
          } catch { /* already cancelled */ }
        };
        const stream = new ReadableStream<Uint8Array>({
          start: (cc) => void (ctrl = cc),
          cancel: () => {
            open = false;
            clearTimeout(timer);
            detach?.();
          },
        }, new ByteLengthQueuingStrategy({ highWaterMark: CAPTURE_BACKLOG_BYTES }));
        // Each chunk after the file header is one whole record, so a slow client loses whole
        // frames (counted) instead of growing the admin thread's memory without bound.
        const writer = new PcapWriter((chunk) => {
          if (!open) return;
          if ((ctrl.desiredSize ?? 0) <= 0) dropped++;
          else ctrl.enqueue(chunk);
        });
        detach = dp.tap({ kind, name }, writer, {
          direction: tapDirection(kind, q.direction),
          maxFrames: q.count || undefined,
          onDone: finish,
        });
        if (!detach) {
          open = false;
          clearTimeout(timer);
          throw new ControlError(404, "name", `no ${kind} ${JSON.stringify(name)}`);
        }
        return c.body(stream, 200, {
          "content-type": "application/vnd.tcpdump.pcap",
          "content-disposition": `attachment; filename="${name}.pcap"`,
        });
      },
    );
  }
}
