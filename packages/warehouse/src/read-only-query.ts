// Users' SQL runs read-only: one statement, of a kind that cannot change
// anything. DuckDB's own parser decides what a statement is, not a regex.
import { StatementType, type DuckDBConnection } from "@duckdb/node-api";
import { InvalidInputError, QueryFailedError } from "@tide/contracts";

const ALLOWED = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

export async function assertReadOnly(conn: DuckDBConnection, sql: string): Promise<void> {
  let extracted;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (error) {
    throw new QueryFailedError(cleanMessage(error));
  }
  if (extracted.count === 0) throw new InvalidInputError("Write a query first", { sql: "Write a query first" });
  if (extracted.count > 1) {
    throw new InvalidInputError("Run one statement at a time", { sql: "Run one statement at a time" });
  }
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (error) {
    throw new QueryFailedError(cleanMessage(error));
  }
  const type = prepared.statementType;
  prepared.destroySync();
  if (!ALLOWED.has(type)) {
    const message = `Only queries (SELECT, WITH, EXPLAIN) run here; this is a ${StatementType[type] ?? "different"} statement`;
    throw new InvalidInputError(message, { sql: message });
  }
}

export function cleanMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^Error: /, "");
}
