// Values between the Row encoding (see @tide/contracts table-schema.ts) and
// DuckDB: appended on the way in, cast in SQL and converted on the way out,
// and key values as SQL literals for the delete's IN list.
import type { DuckDBAppender } from "@duckdb/node-api";
import type { Row } from "@tide/contracts";
import { quoteString } from "./sql";
import type { ColumnPlan } from "./type-mapping";

/** Appends one canonical value (see Row in @tide/contracts) to a column of this plan. */
export function appendValue(appender: DuckDBAppender, value: unknown, plan: ColumnPlan): void {
  if (value === null || value === undefined) return appender.appendNull();
  switch (plan.kind) {
    case "integer":
      // INT UNSIGNED is stored as BIGINT: it does not fit DuckDB's 32-bit INTEGER.
      return plan.duckType === "BIGINT" ? appender.appendBigInt(BigInt(value as number)) : appender.appendInteger(Number(value));
    case "float":
      return appender.appendFloat(Number(value));
    case "double":
      return appender.appendDouble(Number(value));
    case "blob":
      return appender.appendBlob(value instanceof Uint8Array ? value : Buffer.from(String(value), "utf8"));
    case "date":
    case "timestamp": {
      const text = String(value);
      // MySQL's zero date has no DuckDB equivalent: it is kept as -infinity, which reads back
      // as the zero date. Dates with a zero month or day only (2024-00-15) become NULL.
      if (isZeroDate(text)) return appender.appendVarchar("-infinity");
      if (hasZeroMonthOrDay(text)) return appender.appendNull();
      return appender.appendVarchar(text);
    }
    default:
      // BIGINT and DECIMAL arrive as exact strings; DuckDB casts them on append.
      return appender.appendVarchar(typeof value === "string" ? value : String(value));
  }
}

/** 2024-00-15 or 2024-03-00 (checked by character: a hot path). */
function hasZeroMonthOrDay(text: string): boolean {
  return (text.charCodeAt(5) === 48 && text.charCodeAt(6) === 48) || (text.charCodeAt(8) === 48 && text.charCodeAt(9) === 48);
}

function isZeroDate(text: string): boolean {
  // Most dates start with a non-zero year digit: skip the regex for them (a hot path of every load).
  return text.charCodeAt(0) === 48 && /^0000-00-00(?: 00:00:00(?:\.0+)?)?$/.test(text);
}

export function keyFunction(keyColumns: string[]): (row: Row) => string {
  if (keyColumns.length === 1) {
    const column = keyColumns[0]!;
    return (row) => keyText(row[column]);
  }
  return (row) => JSON.stringify(keyColumns.map((c) => keyText(row[c])));
}

function keyText(value: unknown): string {
  if (value === null || value === undefined) return "\u0000null";
  if (value instanceof Uint8Array) return `\u0000x:${Buffer.from(value).toString("hex")}`;
  // Not typed: the same key may arrive as 7 from one path and "7" from another.
  return String(value);
}

export function keyLiteral(value: unknown, plan: ColumnPlan | undefined): string {
  if (value === null || value === undefined) return "NULL";
  if (plan?.kind === "integer" || plan?.kind === "bigint") {
    const text = String(value);
    if (!/^-?\d+$/.test(text)) throw new Error(`Key value ${JSON.stringify(text)} is not an integer`);
    return text;
  }
  if (value instanceof Uint8Array) return `from_hex(${quoteString(Buffer.from(value).toString("hex"))})`;
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`Key value ${value} is not a finite number`);
  // Zero dates are stored as -infinity (see appendValue).
  if ((plan?.kind === "date" || plan?.kind === "timestamp") && isZeroDate(String(value))) return "'-infinity'";
  return quoteString(String(value));
}

/**
 * The SQL that reads a column back in the Row encoding. `hexBlobs`: for reads through the
 * JSON-safe query path (Warehouse.query), which would not keep bytes exact; readValue then
 * takes the same flag.
 */
export function readExpression(column: string, plan: ColumnPlan, options: { hexBlobs?: boolean } = {}): string {
  switch (plan.kind) {
    case "blob":
      return options.hexBlobs ? `hex(${column})` : column;
    case "bigint":
    case "decimal":
      return `CAST(${column} AS VARCHAR)`;
    case "date":
      return `CASE WHEN isinf(${column}) THEN '0000-00-00' ELSE CAST(${column} AS VARCHAR) END`;
    case "timestamp": {
      const fraction = plan.fraction > 0 ? `.${"0".repeat(plan.fraction)}` : "";
      const text = plan.fraction > 0
        ? `strftime(${column}, '%Y-%m-%d %H:%M:%S') || '.' || substr(strftime(${column}, '%f'), 1, ${plan.fraction})`
        : `strftime(${column}, '%Y-%m-%d %H:%M:%S')`;
      return `CASE WHEN isinf(${column}) THEN '0000-00-00 00:00:00${fraction}' ELSE ${text} END`;
    }
    default:
      return column;
  }
}

export function readValue(value: unknown, plan: ColumnPlan, options: { hexBlobs?: boolean } = {}): unknown {
  if (value === null || value === undefined) return null;
  switch (plan.kind) {
    case "integer":
    case "double":
      return Number(value);
    case "float":
      return Number(Math.fround(Number(value)).toPrecision(7));
    case "blob":
      return options.hexBlobs ? Buffer.from(String(value), "hex") : Buffer.from(value as Uint8Array);
    default:
      return String(value);
  }
}
