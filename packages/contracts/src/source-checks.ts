// Results of "Test connection": each prerequisite is checked on its own and a
// failing one says, in plain words, what is wrong and how to fix it.

export type SourceCheckId =
  | "connect"
  | "login"
  | "version"
  | "log_bin"
  | "binlog_format"
  | "binlog_row_image"
  | "binlog_row_metadata"
  | "replication_client"
  | "replication_slave"
  | "select";

export interface SourceCheck {
  id: SourceCheckId;
  /** Short label, e.g. "Binary log enabled". */
  label: string;
  ok: boolean;
  /** What was found, e.g. "binlog_format is STATEMENT". */
  detail: string;
  /** What to do about it when not ok, e.g. "Set binlog_format=ROW in the server configuration and restart". */
  fix?: string;
}

export interface SourceCheckReport {
  ok: boolean;
  serverVersion?: string;
  checks: SourceCheck[];
}

export interface DiscoveredTable {
  database: string;
  table: string;
  engine: string | null;
  rowsEstimate: number;
  primaryKey: string[];
  columns: { name: string; mysqlType: string; nullable: boolean }[];
}
