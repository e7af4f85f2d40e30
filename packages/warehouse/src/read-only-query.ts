// Users' SQL runs read-only: one statement, of a kind that cannot change
// anything. DuckDB's own parser and binder decide what a statement is, not a
// regex; and the statement then runs inside a READ ONLY transaction, so even a
// kind that passes the check but writes (EXPLAIN ANALYZE DELETE ...) fails.
import { StatementType, type DuckDBConnection } from "@duckdb/node-api";
import { InvalidInputError, QueryFailedError } from "@tide/contracts";

// SHOW, DESCRIBE, SUMMARIZE, FROM-first, VALUES and PRAGMA show_tables/table_info bind as SELECT.
const ALLOWED = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);
// Only to word the error of a statement DuckDB could not bind (the statement never runs either way).
const QUERY_KEYWORDS = new Set(["select", "with", "show", "describe", "desc", "summarize", "from", "values", "pragma", "explain", "table"]);

const ONLY_QUERIES = "Only queries (SELECT, WITH, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN) run here";

export async function assertReadOnly(conn: DuckDBConnection, sql: string): Promise<void> {
  let extracted;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (error) {
    throw new QueryFailedError(cleanMessage(error));
  }
  if (extracted.count === 0) throw new InvalidInputError("Write a query first", { sql: "Write a query first" });
  if (extracted.count > 1) {
    const message = "Run one statement at a time: the text holds more than one statement";
    throw new InvalidInputError(message, { sql: message });
  }
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (error) {
    const keyword = leadingKeyword(sql);
    if (QUERY_KEYWORDS.has(keyword)) throw new QueryFailedError(cleanMessage(error));
    throw notAQuery(keyword.toUpperCase() || "different");
  }
  const type = prepared.statementType;
  prepared.destroySync();
  if (!ALLOWED.has(type)) throw notAQuery(StatementType[type] ?? "different");
}

/** Runs `work` in a transaction that cannot write, then discards it. */
export async function inReadOnlyTransaction<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await conn.run("BEGIN TRANSACTION READ ONLY");
  try {
    return await work();
  } catch (error) {
    if (/read-only mode/i.test(cleanMessage(error))) throw notAQuery("writing");
    throw error;
  } finally {
    await conn.run("ROLLBACK").catch(() => undefined);
  }
}

function notAQuery(kind: string): InvalidInputError {
  const message = `${ONLY_QUERIES}; this is a ${kind} statement`;
  return new InvalidInputError(message, { sql: message });
}

function leadingKeyword(sql: string): string {
  const text = sql.replace(/^(?:\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/|\()*/, "");
  return /^[a-z_]+/i.exec(text)?.[0]?.toLowerCase() ?? "";
}

export function cleanMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^Error: /, "");
}
