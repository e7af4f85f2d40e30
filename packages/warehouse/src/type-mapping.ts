// MySQL column types → DuckDB column types (value conversions: value-codec.ts).
export type ValueKind = "integer" | "bigint" | "decimal" | "float" | "double" | "date" | "timestamp" | "blob" | "text";

export interface ColumnPlan {
  duckType: string;
  kind: ValueKind;
  /** Fractional second digits of DATETIME/TIMESTAMP (to print values back as MySQL does). */
  fraction: number;
}

export function planColumn(mysqlType: string): ColumnPlan {
  const type = mysqlType.toLowerCase();
  const base = /^[a-z]+/.exec(type)?.[0] ?? type;
  const unsigned = /\bunsigned\b/.test(type);
  const args = /\((\d+)(?:,(\d+))?\)/.exec(type);
  switch (base) {
    case "tinyint":
    case "smallint":
    case "mediumint":
    case "year":
      return { duckType: "INTEGER", kind: "integer", fraction: 0 };
    case "int":
    case "integer":
      return unsigned ? { duckType: "BIGINT", kind: "integer", fraction: 0 } : { duckType: "INTEGER", kind: "integer", fraction: 0 };
    case "bigint":
      return { duckType: unsigned ? "UBIGINT" : "BIGINT", kind: "bigint", fraction: 0 };
    case "decimal":
    case "numeric": {
      const precision = Number(args?.[1] ?? 10);
      const scale = Number(args?.[2] ?? 0);
      // DuckDB's DECIMAL stops at 38 digits; wider ones keep their exact text.
      if (precision > 38) return { duckType: "VARCHAR", kind: "text", fraction: 0 };
      return { duckType: `DECIMAL(${precision},${scale})`, kind: "decimal", fraction: 0 };
    }
    case "float":
      return { duckType: "FLOAT", kind: "float", fraction: 0 };
    case "double":
    case "real":
      return { duckType: "DOUBLE", kind: "double", fraction: 0 };
    case "date":
      return { duckType: "DATE", kind: "date", fraction: 0 };
    case "datetime":
    case "timestamp":
      return { duckType: "TIMESTAMP", kind: "timestamp", fraction: Number(args?.[1] ?? 0) };
    case "binary":
    case "varbinary":
    case "tinyblob":
    case "blob":
    case "mediumblob":
    case "longblob":
    case "bit":
      return { duckType: "BLOB", kind: "blob", fraction: 0 };
    default:
      // char, varchar, text, enum, set, json (text keeps big integers exact), time (may be negative or > 24 h)
      return { duckType: "VARCHAR", kind: "text", fraction: 0 };
  }
}
