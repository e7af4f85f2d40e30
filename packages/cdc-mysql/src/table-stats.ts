// Cheap facts about a source table for verification: its exact row count and
// the bounds of an integer key (to split it into key ranges).
import type { RowDataPacket } from "mysql2/promise";
import { openConnection, quoteIdent, type SourceConnectionConfig } from "./connection";
import { toSourceError } from "./source-error";

export async function tableStats(
  config: SourceConnectionConfig,
  database: string,
  table: string,
  keyColumn?: string,
): Promise<{ rows: number; min?: bigint; max?: bigint }> {
  let opened;
  try {
    opened = await openConnection(config);
  } catch (error) {
    throw toSourceError(error);
  }
  const { conn } = opened;
  try {
    const name = `${quoteIdent(database)}.${quoteIdent(table)}`;
    const bounds = keyColumn ? `, MIN(${quoteIdent(keyColumn)}) AS lo, MAX(${quoteIdent(keyColumn)}) AS hi` : "";
    const [[row]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n${bounds} FROM ${name}`);
    const big = (v: unknown) => (v === null || v === undefined ? undefined : BigInt(String(v)));
    return { rows: Number(row?.n ?? 0), min: big(row?.lo), max: big(row?.hi) };
  } catch (error) {
    throw toSourceError(error);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
