// How a key column orders on the source, for splitting a table into key ranges
// and for deciding, in JavaScript, which range a binlog row falls in. Integers,
// decimals, dates and bytes order the same in JavaScript as on the source once
// compared the right way. Character strings order by their column's collation
// ('a' < 'B' < 'b' under utf8mb4_general_ci, trailing spaces ignored): the
// source itself turns each string into its collation weights (WEIGHT_STRING),
// which then compare as bytes. Collations that compare on several levels (the
// uca1400 accent- or case-sensitive ones) do not reduce to one byte comparison
// of WEIGHT_STRING's output: such keys are not split.
import type { RowDataPacket } from "mysql2/promise";
import type { Connection } from "mysql2/promise";
import { openConnection, quoteIdent, type SourceConnectionConfig } from "./connection";
import { withSourceConnection } from "./source-connection";
import { toSourceError } from "./source-error";

export type KeyOrderKind = "integer" | "decimal" | "temporal" | "bytes" | "collated";

export interface KeyOrder {
  kind: KeyOrderKind;
  /** decimal: the type bounds are cast to (a DECIMAL compared with a string is compared as a double). */
  cast?: string;
  /** collated: the column's character set and collation, as information_schema names them. */
  charset?: string;
  collation?: string;
  /** collated: trailing spaces do not count (PAD SPACE); hex of a space's weight. */
  padWeight?: string;
}

/** The kind of ordering a column type has, before asking the source about collations; undefined: not splittable. */
export function keyOrderKind(mysqlType: string): KeyOrderKind | undefined {
  const type = mysqlType.toLowerCase();
  if (/^(tiny|small|medium|big)?int\b|^integer\b|^year\b/.test(type)) return "integer";
  if (/^(decimal|numeric)\b/.test(type)) return "decimal";
  if (/^(date|datetime|timestamp)\b/.test(type)) return "temporal";
  if (/^(binary|varbinary)\b/.test(type)) return "bytes";
  if (/^(char|varchar)\b/.test(type)) return "collated";
  return undefined;
}

const SQL_NAME = /^[a-z0-9_]+$/i;

/**
 * How the source orders a key column; undefined when its ordering cannot be reproduced
 * exactly (FLOAT, TIME, ENUM, multi-level collations, ...), and the table is read as one range.
 */
export async function readKeyOrder(config: SourceConnectionConfig, database: string, table: string, column: string, mysqlType: string): Promise<KeyOrder | undefined> {
  const kind = keyOrderKind(mysqlType);
  if (kind === undefined) return undefined;
  if (kind === "decimal") {
    const m = /^(?:decimal|numeric)\s*(?:\((\d+)\s*(?:,\s*(\d+))?\))?/i.exec(mysqlType);
    return { kind, cast: `DECIMAL(${Number(m?.[1] ?? 10)},${Number(m?.[2] ?? 0)})` };
  }
  if (kind !== "collated") return { kind };
  return withSourceConnection(config, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?",
      [database, table, column],
    );
    const charset = String(rows[0]?.cs ?? "");
    const collation = String(rows[0]?.co ?? "");
    // Names reach SQL unquoted (COLLATE takes no parameter): only plain names pass.
    if (!SQL_NAME.test(charset) || !SQL_NAME.test(collation)) return undefined;
    const order: KeyOrder = { kind, charset, collation };
    const [a, ab, space] = await weighStrings(conn, order, ["a", "ab"], " ");
    // One level: the weights of "ab" begin with those of "a" (a second level would follow the first).
    if (!a || !ab || a.length === 0 || !ab.subarray(0, a.length).equals(a)) return undefined;
    if (!/nopad/i.test(collation)) order.padWeight = space!.toString("hex");
    return order;
  });
}

/**
 * The collation weights of strings, from the source (one query per few hundred strings).
 * Weights compare with compareWeights exactly as the strings compare on the source.
 */
export class CollationWeigher {
  private constructor(
    private readonly conn: Connection,
    private readonly order: KeyOrder,
  ) {}

  static async open(config: SourceConnectionConfig, order: KeyOrder): Promise<CollationWeigher> {
    try {
      const { conn } = await openConnection(config);
      return new CollationWeigher(conn, order);
    } catch (error) {
      throw toSourceError(error);
    }
  }

  async weigh(values: string[]): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let i = 0; i < values.length; i += WEIGH_PER_QUERY) {
      try {
        out.push(...(await weighStrings(this.conn, this.order, values.slice(i, i + WEIGH_PER_QUERY))));
      } catch (error) {
        throw toSourceError(error);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.conn.end().catch(() => undefined);
  }
}

const WEIGH_PER_QUERY = 500;

/** Weights of `values`, then (when given) the weight of one padding character `pad`. */
async function weighStrings(conn: Connection, order: KeyOrder, values: string[], pad?: string): Promise<Buffer[]> {
  if (values.length === 0 && pad === undefined) return [];
  const expression = (asChar: boolean) => `WEIGHT_STRING(CONVERT(? USING ${order.charset}) COLLATE ${order.collation}${asChar ? " AS CHAR(1)" : ""})`;
  const columns = values.map((_, i) => `${expression(false)} AS w${i}`);
  if (pad !== undefined) columns.push(`${expression(true)} AS w${values.length}`);
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT ${columns.join(", ")}`, pad === undefined ? values : [...values, pad]);
  const row = rows[0]!;
  return columns.map((_, i) => Buffer.from(row[`w${i}`] as Buffer));
}

/**
 * Compares two collation weights as the source compares the strings: bytes, except that
 * under PAD SPACE (padWeight given) trailing spaces do not count, and a string that ends
 * first compares as though padded with spaces.
 */
export function compareWeights(a: Buffer, b: Buffer, padWeight?: Buffer): number {
  if (!padWeight || padWeight.length === 0) return Buffer.compare(a, b);
  const unit = padWeight.length;
  const trimmed = (w: Buffer) => {
    let end = w.length;
    while (end >= unit && w.subarray(end - unit, end).equals(padWeight)) end -= unit;
    return w.subarray(0, end);
  };
  const x = trimmed(a);
  const y = trimmed(b);
  const common = Math.min(x.length, y.length);
  const head = Buffer.compare(x.subarray(0, common), y.subarray(0, common));
  if (head !== 0 || x.length === y.length) return head;
  // The shorter one is padded with spaces: the longer one's first weight past it that is not a space's decides.
  const longer = x.length > y.length ? x : y;
  let at = common;
  while (longer.subarray(at, at + unit).equals(padWeight)) at += unit;
  const sign = Buffer.compare(longer.subarray(at, at + unit), padWeight);
  return longer === x ? sign : -sign;
}

/**
 * Values of `column` that split the table into ranges of about `chunkRows` rows: the
 * first key of each range after the first, found by walking the key index (each step
 * skips one range's worth of entries). Values come as the driver gives them (strings,
 * or bytes for binary columns); `cast` wraps the bound of a decimal column.
 */
export async function keySplitValues(
  config: SourceConnectionConfig,
  database: string,
  table: string,
  column: string,
  chunkRows: number,
  cast?: string,
): Promise<unknown[]> {
  return withSourceConnection(config, async (conn) => {
    const name = `${quoteIdent(database)}.${quoteIdent(table)}`;
    const key = quoteIdent(column);
    const bound = cast ? `CAST(? AS ${cast})` : "?";
    const skip = Math.max(1, Math.floor(chunkRows));
    const points: unknown[] = [];
    let from: unknown;
    for (;;) {
      // Strictly past the last point, so a leading column of a composite key repeated over more
      // than a range's worth of rows still moves on (that range is simply larger).
      const [rows] =
        from === undefined
          ? await conn.query<RowDataPacket[]>(`SELECT ${key} AS k FROM ${name} ORDER BY ${key} LIMIT 1 OFFSET ${skip}`)
          : await conn.query<RowDataPacket[]>(`SELECT ${key} AS k FROM ${name} WHERE ${key} > ${bound} ORDER BY ${key} LIMIT 1 OFFSET ${skip - 1}`, [from]);
      const next = rows[0]?.k;
      if (next === undefined || next === null) return points;
      points.push(next);
      from = next;
    }
  });
}
