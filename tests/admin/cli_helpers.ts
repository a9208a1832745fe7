// Running the CLI in tests, and reading its aligned tables back.

import assert from "node:assert/strict";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Runs the CLI against `url`. */
export async function xdeno(url: string, ...args: string[]) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--url", url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

/**
 * Splits an aligned table into records by its header: a header is words separated by single
 * spaces, columns by two or more. Asserts every row has text in each column's span only (a cell
 * never starts before its header or runs into the next column) and no extra cell.
 */
export function readTable(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trimEnd().split("\n");
  const starts: number[] = [];
  const names: string[] = [];
  for (const m of head.matchAll(/\S+(?: \S+)*/g)) {
    starts.push(m.index!);
    names.push(m[0]);
  }
  return rows.map((row) => {
    const rec: Record<string, string> = {};
    const cells = [...row.matchAll(/\S+(?: \S+)*/g)];
    assert.equal(cells.length, names.length, `cells of ${JSON.stringify(row)} under ${head}`);
    names.forEach((n, i) => {
      assert.equal(cells[i].index, starts[i], `${n} of ${JSON.stringify(row)} misaligned`);
      rec[n] = cells[i][0];
    });
    return rec;
  });
}
