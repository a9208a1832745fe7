import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("README carries the shipped example config verbatim", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const example = await Deno.readTextFile(`${ROOT}dist/xdeno.example.yaml`);
  const block = /## Example config[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README has an `## Example config` section with a yaml block");
  assert.equal(block[1].trimEnd(), example.trimEnd());
});
