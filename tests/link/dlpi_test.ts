// The illumos DLPI binding, exercised for real: a gcc-built shim exporting libdlpi's C ABI over
// Linux packet sockets is dlopen'ed through ffi/dlpi.ts and must pass the shared link tests.
import assert from "node:assert/strict";
import {
  DLPI,
  DLPI_INFO,
  DLPI_RECVINFO,
  DLPI_SENDINFO,
  DlpiError,
  libdlpi,
} from "../../ffi/dlpi.ts";
import { DlpiLink } from "../../lib/link/dlpi.ts";
import { buildShared, haveGcc } from "../ffi/cc.ts";
import { linkConformance, withVeth } from "./conformance.ts";
import { isRoot } from "./netns.ts";

const gccOk = haveGcc();
const shim = gccOk ? buildShared(new URL("../../ffi/dlpi_shim.c", import.meta.url).pathname) : null;
// Load both views of the library now, then delete the build directory: a mapped library
// survives its file (and an unload hook does not run under --parallel).
if (shim) libdlpi(shim.lib);
const probe = shim
  ? Deno.dlopen(shim.lib, { dlpi_shim_layout: { parameters: ["i32"], result: "usize" } })
  : null;
if (shim) Deno.removeSync(shim.dir, { recursive: true });

Deno.test({
  name: "dlpi: binding layouts equal the C struct layouts (dlpi_info_t, recvinfo, sendinfo)",
  ignore: !gccOk,
  fn() {
    const got = Array.from({ length: 18 }, (_, i) => Number(probe!.symbols.dlpi_shim_layout(i)));
    assert.deepEqual(got, [
      DLPI_INFO.size,
      DLPI_INFO.maxSdu,
      DLPI_INFO.mactype,
      DLPI_INFO.linkname,
      DLPI_INFO.physaddr,
      DLPI_INFO.physaddrlen,
      DLPI_INFO.bcastaddr,
      DLPI_INFO.bcastaddrlen,
      DLPI_INFO.sap,
      DLPI_INFO.timeout,
      DLPI_INFO.qosSel,
      DLPI_INFO.qosRange,
      DLPI_RECVINFO.size,
      DLPI_RECVINFO.destaddrlen,
      DLPI_RECVINFO.destaddrtype,
      DLPI_RECVINFO.totmsglen,
      DLPI_SENDINFO.size,
      DLPI_SENDINFO.prio,
    ]);
  },
});

Deno.test({
  name: "dlpi: errors come back as DlpiError with dlpi_strerror's text",
  ignore: !gccOk,
  fn() {
    assert.throws(
      () => DlpiLink.open({ linkname: "nosuchlink0", library: shim!.lib }),
      (e) => e instanceof DlpiError && e.code === DLPI.ENOLINK && /does not exist/.test(e.message),
    );
    const lib = libdlpi(shim!.lib);
    const hp = new Uint8Array(8);
    assert.equal(lib.dlpi_open(new TextEncoder().encode("lo\0"), hp, 0), DLPI.ERAWNOTSUP);
  },
});

linkConformance(
  "dlpi (shim over AF_PACKET)",
  (netns, linkname, o) => DlpiLink.open({ netns, linkname, library: shim!.lib, ...o }),
  !gccOk,
);

Deno.test({
  name: "dlpi: dlpi_info reports the link's name, MAC and MTU",
  ignore: !gccOk || !isRoot("dlpi info"),
  async fn() {
    await withVeth((nsA, _nsB, a) => {
      const l = DlpiLink.open({ netns: nsA, linkname: a, library: shim!.lib });
      try {
        assert.equal(l.name, a);
        assert.equal(l.kind, "dlpi");
        assert.equal(l.mtu, 1500);
        const ip = JSON.parse(
          new TextDecoder().decode(
            new Deno.Command("ip", { args: ["-n", nsA, "-j", "link", "show", "dev", a] })
              .outputSync().stdout,
          ),
        ) as { address: string }[];
        assert.equal(
          [...l.mac].map((x) => x.toString(16).padStart(2, "0")).join(":"),
          ip[0].address,
        );
      } finally {
        l.close();
      }
    });
  },
});
