// Quoting for identifiers and literals that reach DuckDB SQL text. Values are
// bound or appended wherever DuckDB allows; the delete's IN list must be
// literal for the planner to use the key index, so it is built here, safely.
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}
