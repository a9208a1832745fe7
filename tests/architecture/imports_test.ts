// The layering of DESIGN.md as a test: every relative import in lib/ and ffi/ must point
// downwards, and no lib/ file grows past 400 lines. Known exceptions are listed with their
// reason; the lists only shrink: an entry that no longer applies fails the test too.

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

// Who may import whom (folder → folders it may import), from DESIGN.md's
// packet ← engine ← vpc ← switch ← runtime ← admin/service ← main, with link and ffi below
// switch, config below runtime, and the shared contracts (lib/contract) below runtime too.
// Tools and compositions (testbed, replay) sit at the top with main.
const PRODUCT = [
  "packet",
  "ffi",
  "link",
  "engine",
  "vpc",
  "config",
  "switch",
  "contract",
  "runtime",
  "admin",
  "fleet",
  "service",
];
const BELOW_RUNTIME = ["packet", "ffi", "link", "engine", "vpc", "config", "switch", "contract"];
const ALLOWED: Record<string, readonly string[]> = {
  packet: [],
  ffi: [],
  link: ["packet", "ffi"],
  engine: ["packet"],
  vpc: ["engine", "packet"],
  config: ["packet"],
  // switch sees links only through the Link interface and the capture wrapper (see LINK_SEAM).
  switch: ["vpc", "engine", "packet", "link"],
  contract: ["config", "link", "packet"],
  runtime: BELOW_RUNTIME,
  // admin does not import service; runtime does not import admin (contracts live below both).
  admin: [...BELOW_RUNTIME, "runtime"],
  // fleet feeds changes down the same path as the API, so it sits beside admin.
  fleet: [...BELOW_RUNTIME, "runtime", "admin"],
  service: [...BELOW_RUNTIME, "runtime", "admin", "fleet"],
  // Tools run the product as a whole (they spawn main.ts), so they may name it.
  testbed: [...PRODUCT, "main"],
  replay: [...PRODUCT, "main"],
};

/** Leaf contracts (importing nothing) that every layer may use: the typed user error, env. */
const LEAF = new Set(["lib/contract/field_error.ts", "lib/contract/env.ts"]);

/** The only lib/link modules the switch may import: the interface and the capture wrapper. */
const LINK_SEAM = new Set(["lib/link/link.ts", "lib/link/capture.ts"]);

// Edges against the direction that exist today (none since issue 16). An entry may be added only
// with a reason and an issue; the test fails when a listed edge is gone.
const KNOWN_EDGES = new Set<string>([]);

// lib/ files over 400 lines today (none since issue 16); split a file rather than list it.
const MAX_LINES = 400;
const KNOWN_LONG = new Set<string>([]);

/** Every .ts file under a folder of the repository, as repository-relative paths. */
function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(p);
    else if (e.isFile && p.endsWith(".ts")) yield p;
  }
}

// Static imports and re-exports, dynamic imports, and worker/module URLs.
const SPECIFIER =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

/** The relative specifiers a source file imports (comments are stripped first). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(SPECIFIER)].map((m) => m[1]);
}

/** Resolves a relative specifier against the importing file (both repository-relative). */
function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const s of spec.split("/")) {
    if (s === "..") parts.pop();
    else if (s !== ".") parts.push(s);
  }
  return parts.join("/");
}

/** The layer a repository path belongs to: its lib/ folder, "ffi", or "main" (the entry). */
function layerOf(path: string): string | null {
  if (path.startsWith("ffi/")) return "ffi";
  if (path === "main.ts") return "main";
  const m = /^lib\/([^/]+)\//.exec(path);
  return m ? m[1] : null;
}

/** Every edge that crosses layers against the allowed matrix. */
function violations(): { edges: Set<string>; unknown: string[] } {
  const edges = new Set<string>();
  const unknown: string[] = [];
  for (const file of [...sources("lib"), ...sources("ffi")]) {
    const from = layerOf(file)!;
    if (!(from in ALLOWED)) {
      unknown.push(file);
      continue;
    }
    for (const spec of importsOf(Deno.readTextFileSync(new URL(file, ROOT)))) {
      const target = resolve(file, spec);
      const to = layerOf(target);
      if (to === from || LEAF.has(target)) continue;
      const ok = to !== null && ALLOWED[from].includes(to) &&
        !(from === "switch" && to === "link" && !LINK_SEAM.has(target));
      if (!ok) edges.add(`${file} -> ${target}`);
    }
  }
  return { edges, unknown };
}

Deno.test("import scanner sees static, type, re-export, dynamic and URL imports", () => {
  const text = [
    `import { a } from "../x/a.ts";`,
    `import type { B } from "./b.ts";`,
    `export { c } from "../../ffi/c.ts";`,
    `import "./side.ts";`,
    `const m = await import("../y/m.ts");`,
    `new Worker(new URL("./w.ts", import.meta.url));`,
    `// import { z } from "../z/z.ts";`,
    `import {`,
    `  d,`,
    `  e,`,
    `} from "../d/d.ts";`,
  ].join("\n");
  assert.deepEqual(importsOf(text).sort(), [
    "../../ffi/c.ts",
    "../d/d.ts",
    "../x/a.ts",
    "../y/m.ts",
    "./b.ts",
    "./side.ts",
    "./w.ts",
  ]);
});

Deno.test("leaf contracts import nothing", () => {
  for (const f of LEAF) assert.deepEqual(importsOf(Deno.readTextFileSync(new URL(f, ROOT))), [], f);
});

Deno.test("every lib/ folder has a place in the layering", () => {
  const { unknown } = violations();
  assert.deepEqual(unknown, [], "add the new folder to ALLOWED (and to DESIGN.md)");
});

Deno.test("imports point down the layers (known exceptions only shrink)", () => {
  const { edges } = violations();
  const fresh = [...edges].filter((e) => !KNOWN_EDGES.has(e)).sort();
  assert.deepEqual(fresh, [], "imports against the direction in DESIGN.md");
  const gone = [...KNOWN_EDGES].filter((e) => !edges.has(e)).sort();
  assert.deepEqual(gone, [], "these exceptions are fixed: remove them from KNOWN_EDGES");
});

Deno.test(`no lib/ file over ${MAX_LINES} lines (known exceptions only shrink)`, () => {
  const long = new Set<string>();
  for (const file of sources("lib")) {
    const text = Deno.readTextFileSync(new URL(file, ROOT));
    if (text.split("\n").length - (text.endsWith("\n") ? 1 : 0) > MAX_LINES) long.add(file);
  }
  const fresh = [...long].filter((f) => !KNOWN_LONG.has(f)).sort();
  assert.deepEqual(fresh, [], `split these files below ${MAX_LINES} lines`);
  const gone = [...KNOWN_LONG].filter((f) => !long.has(f)).sort();
  assert.deepEqual(gone, [], "these files are short now: remove them from KNOWN_LONG");
});
