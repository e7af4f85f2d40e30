// What flows from the source reader to the warehouse.
import type { Row } from "./table-schema";

/** Where the binlog reader is. `file`+`pos` is the start of the next event to read. */
export interface BinlogPosition {
  file: string;
  pos: number;
  /** MariaDB GTID position (`0-1-123`) or MySQL executed GTID set, when known. */
  gtid?: string;
}

export type RowChange =
  | { op: "insert"; after: Row }
  | { op: "update"; before: Row; after: Row }
  | { op: "delete"; before: Row };

/** All row changes of one source table inside one committed source transaction. */
export interface TableChanges {
  database: string;
  table: string;
  changes: RowChange[];
}

/**
 * One committed source transaction. The reader emits only committed work;
 * `position` is where to resume to skip this transaction (the event after its commit).
 */
export interface SourceTransaction {
  /**
   * Set on the pieces of a transaction too large to hold in memory: more rows of
   * the same transaction follow, and `position` is still the last commit's (a
   * consumer must not checkpoint until the piece without `partial` arrives).
   */
  partial?: boolean;
  position: BinlogPosition;
  /** A DDL statement (a query event outside any transaction); `database` is the session's default database. */
  ddl?: { statement: string; database: string };
  /** Source commit time, ms since epoch (binlog timestamps have 1 s resolution). */
  commitTimeMs: number;
  tables: TableChanges[];
}

export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  // Binlog file names are `<base>.<6+ digit sequence>`: compare the sequence numerically.
  const seq = (f: string) => Number(f.slice(f.lastIndexOf(".") + 1));
  const bySeq = seq(a.file) - seq(b.file);
  if (bySeq !== 0) return bySeq;
  return a.pos - b.pos;
}

export function formatPosition(p: BinlogPosition): string {
  return `${p.file}:${p.pos}${p.gtid ? ` (GTID ${p.gtid})` : ""}`;
}
