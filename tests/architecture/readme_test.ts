// Issue 16 item 5: each lib/ folder's README says what the folder is for, what it may import and
// its main types, and names every module in the folder, so a reader finds each idea from there.

import assert from "node:assert/strict";

const LIB = new URL("../../lib/", import.meta.url);

/** The lib/ folders, each with its README text and its .ts modules. */
function folders(): { name: string; readme: string | null; modules: string[] }[] {
  const out = [];
  for (const e of Deno.readDirSync(LIB)) {
    if (!e.isDirectory) continue;
    const dir = new URL(`${e.name}/`, LIB);
    let readme: string | null = null;
    try {
      readme = Deno.readTextFileSync(new URL("README.md", dir));
    } catch {
      readme = null;
    }
    const modules = [...Deno.readDirSync(dir)]
      .filter((f) => f.isFile && f.name.endsWith(".ts"))
      .map((f) => f.name)
      .sort();
    out.push({ name: e.name, readme, modules });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

Deno.test("every lib/ folder has a README with its imports and main types", () => {
  const missing: string[] = [];
  for (const f of folders()) {
    if (f.readme === null) {
      missing.push(`lib/${f.name}: no README.md`);
      continue;
    }
    if (!/^## .*\bimport|^\*\*May import:\*\*/im.test(f.readme)) {
      missing.push(`lib/${f.name}: no "## Imports" section or "**May import:**" line`);
    }
    if (!/^## .*main types/im.test(f.readme)) {
      missing.push(`lib/${f.name}: no "## … Main types" section`);
    }
  }
  assert.deepEqual(missing, []);
});

Deno.test("every lib/ module is named in its folder's README", () => {
  const unnamed: string[] = [];
  for (const f of folders()) {
    if (f.readme === null) continue;
    for (const m of f.modules) {
      // Named as `file.ts`, or inside a group like `tpacket*.ts`.
      const named = f.readme.includes(m) ||
        [...f.readme.matchAll(/`([\w]+)\*\.ts`/g)].some((g) => m.startsWith(g[1]));
      if (!named) unnamed.push(`lib/${f.name}/${m}`);
    }
  }
  assert.deepEqual(unnamed, []);
});
