// Nothing is left behind: leak_check.ts runs every open/close and error path three times in a
// process of its own and reports fds, ring mappings, links and addresses left over.
import assert from "node:assert/strict";
import { haveGcc } from "../ffi/cc.ts";
import { isRoot } from "./netns.ts";

Deno.test({
  name: "leaks: after 3 rounds of every link, monitor, plumbing and error path, nothing is left",
  ignore: !isRoot("leak check") || !haveGcc(),
  async fn() {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./leak_check.ts", import.meta.url).pathname],
      cwd: new URL("../..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.ok(r.success, err);
    const rep = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
    assert.equal(rep.fds[1], rep.fds[0], "fds");
    assert.equal(rep.maps[1], rep.maps[0], "socket mappings (rx rings)");
    assert.deepEqual(rep.links, [], "TAP devices");
    assert.equal(rep.addrs, false, "addresses");
  },
});
