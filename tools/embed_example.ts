// Regenerates lib/config/example.ts from dist/xdeno.example.yaml (run after editing the YAML:
// `deno run --allow-read --allow-write tools/embed_example.ts`; tests/config/example_test.ts
// fails while the two differ).

const root = new URL("../", import.meta.url);
const yaml = await Deno.readTextFile(new URL("dist/xdeno.example.yaml", root));
if (/[`\\]|\$\{/.test(yaml)) {
  throw new Error("the example has a backtick, backslash or ${: escape it");
}
await Deno.writeTextFile(
  new URL("lib/config/example.ts", root),
  `// The example configuration, embedded so \`xdeno example-config\` works from the one-file build.
// Generated from dist/xdeno.example.yaml by tools/embed_example.ts: edit the YAML, not this.

/** dist/xdeno.example.yaml, verbatim. */
export const EXAMPLE_CONFIG = \`${yaml}\`;
`,
);
