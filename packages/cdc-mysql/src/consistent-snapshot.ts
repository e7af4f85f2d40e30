// A lock-free consistent snapshot of the source and the exact binlog position
// it corresponds to. On MariaDB, `START TRANSACTION WITH CONSISTENT SNAPSHOT`
// plus `binlog_snapshot_file/_position` is exact; a `SHOW MASTER STATUS` read
// beside the SELECT is not (the binlog is written before the commit becomes
// visible, so ~10% of such positions were measured to be wrong under load).
import type { BinlogPosition, Row, TableSchema } from "@tide/contracts";
import type mysql from "mysql2";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { openConnection, quoteIdent, type SourceConnectionConfig } from "./connection";
import { toSourceError } from "./source-error";
import { rowNormaliser } from "./values";

/** A range of an integer key column, [from, to); a missing bound is open. */
export interface KeyRange {
  column: string;
  from?: bigint;
  to?: bigint;
}

export class ConsistentSnapshot {
  private constructor(
    private readonly raw: mysql.Connection,
    private readonly conn: Connection,
    readonly position: BinlogPosition,
  ) {}

  static async open(config: SourceConnectionConfig): Promise<ConsistentSnapshot> {
    let opened;
    try {
      opened = await openConnection(config);
    } catch (error) {
      throw toSourceError(error);
    }
    const { raw, conn } = opened;
    try {
      await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      const position = (await mariadbSnapshot(conn)) ?? (await lockedSnapshot(conn));
      return new ConsistentSnapshot(raw, conn, position);
    } catch (error) {
      await conn.end().catch(() => undefined);
      throw toSourceError(error);
    }
  }

  /** Streams every row of a table in batches; the next batch is read only after `onBatch` settles (bounded memory). */
  async readTable(
    schema: TableSchema,
    batchRows: number,
    onBatch: (rows: Row[]) => Promise<void>,
    /** Only rows whose integer key column lies in [from, to); a missing bound is open. */
    range?: KeyRange,
  ): Promise<number> {
    const normalise = rowNormaliser(schema.columns);
    const columns = schema.columns.map((c) => quoteIdent(c.name)).join(", ");
    let sql = `SELECT ${columns} FROM ${quoteIdent(schema.database)}.${quoteIdent(schema.table)}`;
    const values: string[] = [];
    const conditions: string[] = [];
    if (range?.from !== undefined) {
      conditions.push(`${quoteIdent(range.column)} >= ?`);
      values.push(range.from.toString());
    }
    if (range?.to !== undefined) {
      conditions.push(`${quoteIdent(range.column)} < ?`);
      values.push(range.to.toString());
    }
    if (conditions.length > 0) sql += ` WHERE ${conditions.join(" AND ")}`;
    const stream = this.raw.query({ sql, values, rowsAsArray: false }).stream({ highWaterMark: Math.min(batchRows, 5_000) });
    let batch: Row[] = [];
    let total = 0;
    try {
      for await (const raw of stream as AsyncIterable<Record<string, unknown>>) {
        batch.push(normalise(raw));
        if (batch.length >= batchRows) {
          total += batch.length;
          await onBatch(batch);
          batch = [];
        }
      }
    } catch (error) {
      stream.destroy();
      throw toSourceError(error);
    }
    if (batch.length > 0) {
      total += batch.length;
      await onBatch(batch);
    }
    return total;
  }

  /** Bytes received from the source on this snapshot's connection so far (for bytes-per-second metrics). */
  get bytesRead(): number {
    return (this.raw as unknown as { stream?: { bytesRead?: number } }).stream?.bytesRead ?? 0;
  }

  async close(): Promise<void> {
    await this.conn.query("COMMIT").catch(() => undefined);
    await this.conn.end().catch(() => undefined);
  }
}

async function mariadbSnapshot(conn: Connection): Promise<BinlogPosition | undefined> {
  await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
  const [rows] = await conn.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const status = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
  const file = status.get("binlog_snapshot_file");
  const pos = Number(status.get("binlog_snapshot_position"));
  if (!file || !Number.isFinite(pos)) {
    await conn.query("ROLLBACK");
    return undefined;
  }
  const position: BinlogPosition = { file, pos };
  try {
    const [[gtid]] = await conn.query<RowDataPacket[]>("SELECT BINLOG_GTID_POS(?, ?) AS gtid", [file, pos]);
    if (gtid?.gtid) position.gtid = String(gtid.gtid);
  } catch {
    // MySQL has no BINLOG_GTID_POS; the file position is enough.
  }
  return position;
}

/** MySQL has no binlog_snapshot status: hold a global read lock for the instant it takes to pin the snapshot (needs RELOAD). */
async function lockedSnapshot(conn: Connection): Promise<BinlogPosition> {
  try {
    await conn.query("FLUSH TABLES WITH READ LOCK");
  } catch (error) {
    throw new Error(
      `This server cannot report a consistent snapshot position without a brief global read lock, which needs the RELOAD privilege (${(error as Error).message})`,
    );
  }
  try {
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    const [[status]] = await conn.query<RowDataPacket[]>("SHOW MASTER STATUS");
    if (!status) throw new Error("SHOW MASTER STATUS returned nothing: the binlog is off");
    return { file: String(status.File), pos: Number(status.Position) };
  } finally {
    await conn.query("UNLOCK TABLES");
  }
}
