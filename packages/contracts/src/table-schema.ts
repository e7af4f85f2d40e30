// A source table's shape as the CDC reader sees it and the warehouse creates it.

export interface ColumnSchema {
  name: string;
  /** Full MySQL column type as information_schema.COLUMNS.COLUMN_TYPE shows it, e.g. `bigint(20) unsigned`, `decimal(12,2)`, `varchar(255)`, `enum('a','b')`. */
  mysqlType: string;
  nullable: boolean;
}

export interface TableSchema {
  database: string;
  table: string;
  /** In ordinal order. */
  columns: ColumnSchema[];
  /** Primary key column names in key order; empty when the table has none. */
  primaryKey: string[];
}

/** What a job writes a source table into. */
export interface SinkTableSpec {
  /** Warehouse schema (layer), e.g. `ods`. */
  schema: string;
  /** Warehouse table name, e.g. `orders`. */
  table: string;
  columns: ColumnSchema[];
  /** `unique`: upsert/delete by `keyColumns`; `duplicate`: append-only. */
  model: "unique" | "duplicate";
  keyColumns: string[];
}

/** A row as plain JS values, keyed by column name. See value-encoding.ts for the value types. */
export type Row = Record<string, unknown>;

/*
 * Value encoding of a Row, the same from the snapshot and from the binlog
 * (packages/cdc-mysql normalises both to it; packages/warehouse reads it):
 *   TINYINT..INT, YEAR            number
 *   BIGINT (signed/unsigned)      string of decimal digits (exact beyond 2^53)
 *   DECIMAL                       string, exact as the source prints it
 *   FLOAT                         number (Math.fround applied), DOUBLE number
 *   DATE                          'YYYY-MM-DD'
 *   DATETIME, TIMESTAMP           'YYYY-MM-DD HH:MM:SS[.ffffff]' (TIMESTAMP in UTC)
 *   TIME                          '[-]HH:MM:SS[.ffffff]'
 *   CHAR, VARCHAR, TEXT, ENUM, SET  string
 *   BINARY, VARBINARY, BLOB, BIT  Uint8Array (Buffer)
 *   JSON                          string of JSON text (big integers kept exact)
 *   NULL                          null
 */
