// /v1/ports/{name}/subnets: attached subnets and transit IPs (opteadm attach-subnet,
// detach-subnet, allow-cidr, remove-cidr), settable at run time. One resource per port so a
// replace is atomic; the verbs are edits of it.

import { createRoute, z } from "@hono/zod-openapi";
import { network as prefix } from "../../config/fields.ts";
import { PortSubnets } from "../../config/schema.ts";
import type { DesiredState } from "../../config/resources.ts";
import type { AdminApp } from "../app.ts";
import { type Control, ControlError } from "../control.ts";
import { body, ERRORS, json, needPort, PortParam } from "./common.ts";

const EMPTY: PortSubnets = { attached: [], transit: [] };
const Dir = z.enum(["in", "out"]).optional();
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Registers the subnet routes. */
export function subnetRoutes(app: AdminApp, ctl: Control): void {
  const path = "/v1/ports/{name}/subnets";
  const current = (s: DesiredState, name: string) => {
    needPort(s, name);
    return s.subnets.get(name) ?? EMPTY;
  };
  const edit = (name: string, f: (cur: PortSubnets) => PortSubnets) =>
    ctl.mutate((s) => {
      const next = f(current(s, name));
      const empty = next.attached.length === 0 && next.transit.length === 0;
      return {
        changes: [{ kind: "subnets", key: name, value: empty ? null : next }],
        result: next,
      };
    });
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["subnets"],
      request: { params: PortParam },
      responses: { 200: json("attached subnets and transit IPs", PortSubnets), ...ERRORS },
    }),
    (c) => c.json(current(ctl.state, c.req.valid("param").name), 200),
  );
  app.openapi(
    createRoute({
      method: "put",
      path,
      tags: ["subnets"],
      request: { params: PortParam, body: body(PortSubnets) },
      responses: { 200: json("replaced", PortSubnets), ...ERRORS },
    }),
    async (c) => {
      const v = c.req.valid("json");
      return c.json(await edit(c.req.valid("param").name, () => v), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: `${path}/attached`,
      tags: ["subnets"],
      request: {
        params: PortParam,
        body: body(z.strictObject({ cidr: prefix, external: z.boolean().default(false) })),
      },
      responses: { 200: json("attached (a repeat updates `external`)", PortSubnets), ...ERRORS },
    }),
    async (c) => {
      const a = c.req.valid("json");
      return c.json(
        await edit(c.req.valid("param").name, (cur) => ({
          ...cur,
          attached: [...cur.attached.filter((x) => !same(x.cidr, a.cidr)), a],
        })),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: `${path}/attached`,
      tags: ["subnets"],
      request: { params: PortParam, query: z.object({ cidr: prefix }) },
      responses: { 200: json("detached", PortSubnets), ...ERRORS },
    }),
    async (c) => {
      const { cidr } = c.req.valid("query");
      const name = c.req.valid("param").name;
      return c.json(
        await edit(name, (cur) => {
          if (!cur.attached.some((x) => same(x.cidr, cidr))) {
            throw new ControlError(404, "cidr", `${cidr} is not attached to ${name}`);
          }
          return { ...cur, attached: cur.attached.filter((x) => !same(x.cidr, cidr)) };
        }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: `${path}/transit`,
      tags: ["subnets"],
      request: { params: PortParam, body: body(z.strictObject({ cidr: prefix, dir: Dir })) },
      responses: { 200: json("allowed (absent dir: both)", PortSubnets), ...ERRORS },
    }),
    async (c) => {
      const { cidr, dir } = c.req.valid("json");
      return c.json(
        await edit(c.req.valid("param").name, (cur) => {
          const old = cur.transit.find((x) => same(x.cidr, cidr));
          const t = {
            cidr,
            allowIn: (old?.allowIn ?? false) || dir !== "out",
            allowOut: (old?.allowOut ?? false) || dir !== "in",
          };
          return { ...cur, transit: [...cur.transit.filter((x) => x !== old), t] };
        }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: `${path}/transit`,
      tags: ["subnets"],
      request: { params: PortParam, query: z.object({ cidr: prefix, dir: Dir }) },
      responses: { 200: json("removed (absent dir: both)", PortSubnets), ...ERRORS },
    }),
    async (c) => {
      const { cidr, dir } = c.req.valid("query");
      const name = c.req.valid("param").name;
      return c.json(
        await edit(name, (cur) => {
          const old = cur.transit.find((x) => same(x.cidr, cidr));
          // As upstream's remove-cidr: each named direction must be there.
          const missing = !old || (dir !== "out" && !old.allowIn) ||
            (dir !== "in" && !old.allowOut);
          if (!old || missing) {
            const d = dir ? ` (${dir})` : "";
            throw new ControlError(404, "cidr", `${cidr} is not a transit IP of ${name}${d}`);
          }
          const t = {
            cidr: old.cidr,
            allowIn: old.allowIn && dir === "out",
            allowOut: old.allowOut && dir === "in",
          };
          const rest = cur.transit.filter((x) => x !== old);
          return { ...cur, transit: t.allowIn || t.allowOut ? [...rest, t] : rest };
        }),
        200,
      );
    },
  );
}
