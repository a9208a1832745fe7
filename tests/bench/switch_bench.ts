// ns per batch of 32 frames through each switch path (divide by 32 for ns/frame), including
// the copy of each frame into the receive batch that a real backend also does. Every poll
// checks it sent its frames, so a path that starts dropping fails instead of getting faster.
import { benchSwitch, type Path, pollChecked } from "../switch/benchsled.ts";
import { PROD_PATHS, prodSwitch } from "../switch/prodsled.ts";

const paths: Path[] = [
  "zone→zone",
  "zone→underlay",
  "underlay→zone",
  "overlay out",
  "overlay in",
  "overlay loopback",
];
for (const p of paths) {
  const b = benchSwitch(p);
  pollChecked(b, p);
  Deno.bench(`switch ${p} x32`, () => pollChecked(b, p));
}
// With virtio-net headers carried (offload): the cost of moving/zeroing them.
// "overlay tso": 4 super-frames of 8 segments per poll, split in the switch (32 segments out);
// "overlay uso" the same towards an xdeno peer over gathering links (4 UDP_L4 frames out).
// "overlay gro": 32 in-order segments of one flow coalesced into one frame for the instance;
// "zone gro" the same zone→zone (pass-through GRO).
for (
  const p of [
    "zone→zone",
    "zone→underlay",
    "overlay out",
    "overlay tso",
    "overlay uso",
    "overlay gro",
    "zone gro",
  ] as Path[]
) {
  const b = benchSwitch(p, 10, { vnet: true });
  pollChecked(b, `${p} vnet`);
  Deno.bench(`switch ${p} vnet x32`, () => pollChecked(b, `${p} vnet`));
}
// The production pipeline (lib/vpc's VPC port, performance.now() clock), forwarding and
// dropping floods; a flood's poll must drop all 32 frames.
for (const p of PROD_PATHS) {
  const b = prodSwitch(p);
  pollChecked(b, p);
  Deno.bench(`switch production ${p} x32`, () => pollChecked(b, p));
}
