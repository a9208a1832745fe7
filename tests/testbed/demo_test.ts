// The demo's keep-running wait: Enter (or stdin closing) ends it; other input does not.

import assert from "node:assert/strict";
import { untilEnter } from "../../lib/testbed/demo.ts";

Deno.test("demo waits for Enter: typing without a newline keeps the rack up", async () => {
  let push!: ReadableStreamDefaultController<Uint8Array>;
  const input = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
  let ended = false;
  const wait = untilEnter(input).then(() => ended = true);
  push.enqueue(new TextEncoder().encode("abc"));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ended, false);
  push.enqueue(new TextEncoder().encode("\n"));
  await wait;
  assert.equal(ended, true);
});

Deno.test("demo wait ends when stdin closes (Ctrl-D, or no terminal)", async () => {
  const input = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  await untilEnter(input);
});

Deno.test("demo --help says the rack stays up until Enter or Ctrl-C on a terminal", async () => {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "demo", "--help"],
    stdout: "piped",
  }).output();
  const help = new TextDecoder().decode(o.stdout);
  assert.match(help, /until Enter or Ctrl-C/);
  assert.match(help, /the default when stdout is a terminal/);
});
