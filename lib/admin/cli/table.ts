// Aligned text tables for the CLI (opteadm-style: upper-case headers, two-space gaps).

/** Renders rows under `headers`, every column as wide as its widest cell. */
export function renderTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : (c ?? "").padEnd(widths[i]))).join("  ").trimEnd()
  )
    .join("\n");
}
