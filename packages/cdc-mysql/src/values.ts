// One value normaliser for both the snapshot (mysql2 text protocol) and the
// binlog (zongji), so the two paths produce identical rows; see the encoding
// in packages/contracts/src/table-schema.ts.
import type { ColumnSchema, Row } from "@tide/contracts";

type Normalise = (value: unknown) => unknown;

const asString: Normalise = (v) => (Buffer.isBuffer(v) ? v.toString("utf8") : typeof v === "bigint" ? v.toString() : String(v));
const asNumber: Normalise = (v) => (typeof v === "number" ? v : Number(Buffer.isBuffer(v) ? v.toString("utf8") : v));
const asBuffer: Normalise = (v) => (Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v), "utf8"));
// FLOAT comes from the binlog as the widened double (1.100000023841858) and from a SELECT as 1.1.
const asFloat: Normalise = (v) => Number(Math.fround(asNumber(v) as number).toPrecision(7));

// zongji decodes a negative TIME by flipping bits and adding one second without a carry
// into the 6-bit fields ('-12:30:00' arrives as '-12:29:64', '-12:00:00' as '-11:63:64');
// carry it here so both paths agree.
const asTime: Normalise = (v) => {
  const text = asString(v) as string;
  const m = /^(-?)(\d+):(\d{2}):(\d{2})(\.\d+)?$/.exec(text);
  if (!m || Number(m[4]) < 64) return text;
  let [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4]) - 64];
  minute += 1;
  if (minute >= 64) {
    minute -= 64;
    hour += 1;
  }
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${m[1]}${pad(hour)}:${pad(minute)}:${pad(second)}${m[5] ?? ""}`;
};

/** Chooses the normaliser from information_schema's COLUMN_TYPE (or zongji's approximation of it). */
export function normaliserFor(mysqlType: string): Normalise {
  const type = mysqlType.toLowerCase();
  const base = /^[a-z]+/.exec(type)?.[0] ?? type;
  switch (base) {
    case "tinyint":
    case "smallint":
    case "mediumint":
    case "int":
    case "integer":
    case "year":
      return asNumber;
    case "bigint":
    case "decimal":
    case "numeric":
      return asString;
    case "float":
      return asFloat;
    case "double":
    case "real":
      return asNumber;
    case "binary":
    case "varbinary":
    case "tinyblob":
    case "blob":
    case "mediumblob":
    case "longblob":
    case "bit":
    case "geometry":
    case "point":
    case "linestring":
    case "polygon":
      return asBuffer;
    case "time":
      return asTime;
    default:
      // char, varchar, text, enum, set, json, date, datetime, timestamp, time, uuid, inet
      return asString;
  }
}

/**
 * Builds a function that turns a driver row into a canonical Row of exactly these columns,
 * rewriting the driver's object instead of building another: it must be a fresh object holding
 * exactly these columns (a SELECT of them, or a binlog row image). That spares an allocation per
 * row on the hot paths (garbage collection was ~16% of apply time).
 */
export function rowNormaliser(columns: readonly Pick<ColumnSchema, "name" | "mysqlType">[]): (raw: Record<string, unknown>) => Row {
  const plan = columns.map((c) => [c.name, normaliserFor(c.mysqlType)] as const);
  return (raw) => {
    for (const [name, normalise] of plan) {
      const value = raw[name];
      raw[name] = value === null || value === undefined ? null : normalise(value);
    }
    return raw as Row;
  };
}
