// Which tables a source has, with their columns and primary keys: three
// information_schema queries for the whole server, not one per table.
import type { DiscoveredTable, TableSchema } from "@tide/contracts";
import type { RowDataPacket } from "mysql2/promise";
import type { SourceConnectionConfig } from "./connection";
import { withSourceConnection } from "./source-connection";

const SYSTEM_SCHEMAS = ["mysql", "sys", "information_schema", "performance_schema"];

export async function discoverTables(config: SourceConnectionConfig, only?: { database: string; table: string }): Promise<DiscoveredTable[]> {
  return withSourceConnection(config, async (conn) => {
    const filter = only ? "TABLE_SCHEMA = ? AND TABLE_NAME = ?" : "TABLE_SCHEMA NOT IN (?)";
    const params = only ? [only.database, only.table] : [SYSTEM_SCHEMAS];
    const [tables] = await conn.query<RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, ENGINE AS engine, TABLE_ROWS AS est FROM information_schema.TABLES
       WHERE TABLE_TYPE = 'BASE TABLE' AND ${filter} ORDER BY TABLE_SCHEMA, TABLE_NAME`,
      params,
    );
    const [columns] = await conn.query<RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE ${filter} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      params,
    );
    const [keys] = await conn.query<RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
       WHERE CONSTRAINT_NAME = 'PRIMARY' AND ${filter} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      params,
    );
    const byTable = new Map<string, DiscoveredTable>();
    for (const r of tables) {
      byTable.set(`${r.db}\u0000${r.t}`, {
        database: String(r.db),
        table: String(r.t),
        engine: r.engine === null ? null : String(r.engine),
        rowsEstimate: Number(r.est ?? 0),
        primaryKey: [],
        columns: [],
      });
    }
    for (const c of columns) {
      byTable.get(`${c.db}\u0000${c.t}`)?.columns.push({ name: String(c.name), mysqlType: String(c.type), nullable: c.nullable === "YES" });
    }
    for (const k of keys) byTable.get(`${k.db}\u0000${k.t}`)?.primaryKey.push(String(k.name));
    return [...byTable.values()];
  });
}

export async function readTableSchema(config: SourceConnectionConfig, database: string, table: string): Promise<TableSchema> {
  const [found] = await discoverTables(config, { database, table });
  if (!found) throw new Error(`The source has no table ${database}.${table}`);
  return { database, table, columns: found.columns, primaryKey: found.primaryKey };
}
