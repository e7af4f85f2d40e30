// Tells a source column's type change apart: widening (every old value fits
// the new type), narrowing (within the same family, some values may not fit),
// or incompatible (another family: numbers to dates and the like). The history
// shows which, and the lenient behavior treats them differently.
export type TypeChangeClass = "same" | "widening" | "narrowing" | "incompatible";

interface ParsedType {
  family: "integer" | "decimal" | "float" | "text" | "binary" | "datetime" | "date" | "time" | "year" | "other";
  base: string;
  /** Integer byte width, decimal precision, string length, fraction digits: the family's measure. */
  size: number;
  scale: number;
  unsigned: boolean;
}

const INTEGER_BYTES: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 8 };
/** Decimal digits an integer of this width needs (signed max, or unsigned max). */
const INTEGER_DIGITS: Record<number, [number, number]> = { 1: [3, 3], 2: [5, 5], 3: [7, 8], 4: [10, 10], 8: [19, 20] };
const TEXT_LENGTH: Record<string, number> = { tinytext: 255, text: 65_535, mediumtext: 16_777_215, longtext: 4_294_967_295, json: 4_294_967_295 };
const BLOB_LENGTH: Record<string, number> = { tinyblob: 255, blob: 65_535, mediumblob: 16_777_215, longblob: 4_294_967_295 };

function parse(mysqlType: string): ParsedType {
  const type = mysqlType.toLowerCase().trim();
  const base = /^[a-z]+/.exec(type)?.[0] ?? type;
  const args = /\((\d+)(?:\s*,\s*(\d+))?\)/.exec(type);
  const a = args?.[1] !== undefined ? Number(args[1]) : undefined;
  const b = args?.[2] !== undefined ? Number(args[2]) : undefined;
  const unsigned = /\bunsigned\b/.test(type);
  if (base in INTEGER_BYTES) return { family: "integer", base, size: INTEGER_BYTES[base]!, scale: 0, unsigned };
  if (base === "decimal" || base === "numeric" || base === "dec" || base === "fixed") return { family: "decimal", base, size: a ?? 10, scale: b ?? 0, unsigned };
  if (base === "float" || base === "double" || base === "real") return { family: "float", base, size: base === "float" ? 4 : 8, scale: 0, unsigned };
  if (base === "char" || base === "varchar") return { family: "text", base, size: a ?? 1, scale: 0, unsigned };
  if (base in TEXT_LENGTH) return { family: "text", base, size: TEXT_LENGTH[base]!, scale: 0, unsigned };
  if (base === "binary" || base === "varbinary") return { family: "binary", base, size: a ?? 1, scale: 0, unsigned };
  if (base in BLOB_LENGTH) return { family: "binary", base, size: BLOB_LENGTH[base]!, scale: 0, unsigned };
  if (base === "datetime" || base === "timestamp") return { family: "datetime", base, size: a ?? 0, scale: 0, unsigned };
  if (base === "date") return { family: "date", base, size: 0, scale: 0, unsigned };
  if (base === "time") return { family: "time", base, size: a ?? 0, scale: 0, unsigned };
  if (base === "year") return { family: "year", base, size: 0, scale: 0, unsigned };
  return { family: "other", base: type, size: 0, scale: 0, unsigned };
}

function integerDigits(t: ParsedType): number {
  return INTEGER_DIGITS[t.size]![t.unsigned ? 1 : 0];
}

/** How a column's MySQL type changes from `from` to `to` (as information_schema.COLUMN_TYPE spells them). */
export function classifyTypeChange(from: string, to: string): TypeChangeClass {
  if (from.toLowerCase().replace(/\s+/g, " ").trim() === to.toLowerCase().replace(/\s+/g, " ").trim()) return "same";
  const a = parse(from);
  const b = parse(to);
  const fits = (ok: boolean) => (ok ? "widening" : "narrowing");
  switch (`${a.family}>${b.family}`) {
    case "integer>integer":
      // Signed to unsigned loses the negatives; unsigned to signed needs a wider type.
      if (a.unsigned === b.unsigned) return a.size === b.size ? "same" : fits(b.size > a.size);
      return fits(!b.unsigned && b.size > a.size);
    case "integer>decimal":
      return fits(!(a.unsigned === false && b.unsigned) && b.size - b.scale >= integerDigits(a));
    case "integer>float":
      return fits(b.size === 8 && a.size <= 4); // a double holds every 32-bit integer exactly
    case "decimal>decimal":
      if (a.size === b.size && a.scale === b.scale && a.unsigned === b.unsigned) return "same";
      return fits(b.scale >= a.scale && b.size - b.scale >= a.size - a.scale && (!b.unsigned || a.unsigned));
    case "float>float":
      return a.size === b.size ? "same" : fits(b.size > a.size);
    case "text>text":
    case "binary>binary":
      return a.size === b.size ? "same" : fits(b.size >= a.size);
    case "integer>text":
      return fits(b.size >= integerDigits(a) + 1);
    case "decimal>text":
      return fits(b.size >= a.size + 2);
    case "float>text":
      return fits(b.size >= 24);
    case "date>text":
      return fits(b.size >= 10);
    case "datetime>text":
      return fits(b.size >= 19 + (a.size > 0 ? a.size + 1 : 0));
    case "datetime>datetime":
      return a.size === b.size && a.base === b.base ? "same" : fits(b.size >= a.size);
    case "date>datetime":
      return "widening";
    case "datetime>date":
      return "narrowing";
    case "time>time":
      return a.size === b.size ? "same" : fits(b.size >= a.size);
    default:
      return a.family === b.family ? "narrowing" : "incompatible";
  }
}
