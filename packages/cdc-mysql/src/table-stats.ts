// Cheap facts about a source table for verification: its exact row count and
// the bounds of an integer key (to split it into key ranges).
import type { RowDataPacket } from "mysql2/promise";
import { quoteIdent, type SourceConnectionConfig } from "./connection";
import { withSourceConnection } from "./source-connection";

export async function tableStats(
  config: SourceConnectionConfig,
  database: string,
  table: string,
  keyColumn?: string,
): Promise<{ rows: number; min?: bigint; max?: bigint }> {
  return withSourceConnection(config, async (conn) => {
    const name = `${quoteIdent(database)}.${quoteIdent(table)}`;
    const bounds = keyColumn ? `, MIN(${quoteIdent(keyColumn)}) AS lo, MAX(${quoteIdent(keyColumn)}) AS hi` : "";
    const [[row]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n${bounds} FROM ${name}`);
    const big = (v: unknown) => (v === null || v === undefined ? undefined : BigInt(String(v)));
    return { rows: Number(row?.n ?? 0), min: big(row?.lo), max: big(row?.hi) };
  });
}

/**
 * Boundaries that split an integer key into ranges of about `chunkRows` rows
 * each, found by walking the key index (each step reads one range's worth of
 * index entries): right for skewed keys, where even splits of the key span
 * would give empty ranges and huge ones.
 */
export async function keySplitPoints(config: SourceConnectionConfig, database: string, table: string, keyColumn: string, chunkRows: number): Promise<bigint[]> {
  return withSourceConnection(config, async (conn) => {
    const name = `${quoteIdent(database)}.${quoteIdent(table)}`;
    const key = quoteIdent(keyColumn);
    const points: bigint[] = [];
    let from: bigint | undefined;
    for (;;) {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT ${key} AS k FROM ${name}${from === undefined ? "" : ` WHERE ${key} > ?`} ORDER BY ${key} LIMIT 1 OFFSET ${Math.max(0, Math.floor(chunkRows) - 1)}`,
        from === undefined ? [] : [from.toString()],
      );
      const k = rows[0]?.k;
      if (k === undefined || k === null) return points;
      from = BigInt(String(k));
      points.push(from + 1n);
    }
  });
}
