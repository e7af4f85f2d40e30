// Prints command results as an aligned table, JSON or CSV (`--format`).
export type OutputFormat = "table" | "json" | "csv";

export interface Tabular {
  columns: string[];
  rows: unknown[][];
}

export function render(data: Tabular, format: OutputFormat, raw: unknown = data): string {
  if (format === "json") return JSON.stringify(raw, null, 2);
  if (format === "csv") return [data.columns, ...data.rows].map((r) => r.map(csvCell).join(",")).join("\n");
  const cells = [data.columns, ...data.rows.map((r) => r.map(text))];
  const widths = data.columns.map((_, i) => Math.min(60, Math.max(...cells.map((r) => String(r[i] ?? "").length))));
  const line = (r: unknown[]) => r.map((c, i) => String(c ?? "").slice(0, 60).padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(data.columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = text(value);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Key/value pairs as a two-column table. */
export function fields(record: Record<string, unknown>): Tabular {
  return { columns: ["field", "value"], rows: Object.entries(record).map(([k, v]) => [k, v]) };
}
