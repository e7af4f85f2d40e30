// A lock-free consistent snapshot of the source and the exact binlog position
// it corresponds to. On MariaDB, `START TRANSACTION WITH CONSISTENT SNAPSHOT`
// plus `binlog_snapshot_file/_position` is exact; a `SHOW MASTER STATUS` read
// beside the SELECT is not (the binlog is written before the commit becomes
// visible, so ~10% of such positions were measured to be wrong under load).
// Readers that need no position (Verify) open a plain read-only snapshot: no
// global read lock on MySQL, no binlog status at all.
import type { BinlogPosition, Row, TableSchema } from "@tide/contracts";
import type mysql from "mysql2";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { openConnection, quoteIdent, type SourceConnectionConfig } from "./connection";
import { toSourceError } from "./source-error";
import { rowNormaliser } from "./values";

/** A range of a key column, [from, to), in the source's ordering of the column; a missing bound is open. */
export interface KeyRange {
  column: string;
  /** Row values (see table-schema.ts): bigint or decimal strings, strings, bytes. */
  from?: unknown;
  to?: unknown;
  /** The type bounds are cast to before the comparison, e.g. DECIMAL(65,30) (see KeyOrder.cast). */
  cast?: string;
}

/**
 * A column of an ordered read. `bytes` orders by the value's utf8mb4 bytes instead of the
 * column's collation: the order DuckDB and a byte comparison in JavaScript give too (a
 * collation such as utf8mb4_general_ci puts 'a' before 'B'; bytes put 'B' first).
 */
export interface OrderColumn {
  column: string;
  bytes: boolean;
}

export interface SnapshotOptions {
  /**
   * false: a plain `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` with no binlog
   * position, so no `FLUSH TABLES WITH READ LOCK` on MySQL (default true).
   */
  position?: boolean;
}

export class ConsistentSnapshot<P extends BinlogPosition | undefined = BinlogPosition> {
  private constructor(
    private readonly raw: mysql.Connection,
    private readonly conn: Connection,
    readonly position: P,
  ) {}

  static open(config: SourceConnectionConfig, options?: { position?: true }): Promise<ConsistentSnapshot>;
  static open(config: SourceConnectionConfig, options: { position: false }): Promise<ConsistentSnapshot<undefined>>;
  static async open(config: SourceConnectionConfig, options: SnapshotOptions = {}): Promise<ConsistentSnapshot<BinlogPosition | undefined>> {
    let opened;
    try {
      opened = await openConnection(config);
    } catch (error) {
      throw toSourceError(error);
    }
    const { raw, conn } = opened;
    try {
      await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      if (options.position === false) {
        await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
        return new ConsistentSnapshot<undefined>(raw, conn, undefined);
      }
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
    /** Only rows whose key column lies in [from, to); a missing bound is open. */
    range?: KeyRange,
  ): Promise<number> {
    const normalise = rowNormaliser(schema.columns);
    let sql = selectAll(schema);
    const values: unknown[] = [];
    const conditions: string[] = [];
    if (range?.cast !== undefined && !/^[a-z0-9_(), ]+$/i.test(range.cast)) throw new Error(`Not a type to cast a key bound to: ${range.cast}`);
    const bound = range?.cast ? `CAST(? AS ${range.cast})` : "?";
    if (range?.from !== undefined) {
      conditions.push(`${quoteIdent(range.column)} >= ${bound}`);
      values.push(bindable(range.from));
    }
    if (range?.to !== undefined) {
      conditions.push(`${quoteIdent(range.column)} < ${bound}`);
      values.push(bindable(range.to));
    }
    if (conditions.length > 0) sql += ` WHERE ${conditions.join(" AND ")}`;
    // Rows arrive as the driver's events rather than through an async iterator: a promise per row
    // was a tenth of a snapshot's JavaScript time. The connection is paused while a batch is
    // handed on, so at most about one batch is held.
    return new Promise<number>((resolve, reject) => {
      const query = this.raw.query({ sql, values });
      let batch: Row[] = [];
      let total = 0;
      let delivering = false;
      let ended = false;
      let failure: { error: unknown } | undefined;
      const finish = () => {
        if (batch.length > 0 && !failure) return deliver();
        // The last batch may have been handed on with the connection paused: the snapshot's next query needs it back.
        this.raw.resume();
        if (failure) reject(failure.error);
        else resolve(total);
      };
      const deliver = () => {
        const rows = batch;
        batch = [];
        total += rows.length;
        delivering = true;
        this.raw.pause();
        onBatch(rows).then(
          () => {
            delivering = false;
            if (ended) finish();
            else if (batch.length >= batchRows) deliver();
            else this.raw.resume();
          },
          (error: unknown) => {
            // A failure of onBatch (the warehouse's disk is full) is the consumer's, not a source
            // error. The rest of the result is drained (and dropped) so the connection stays usable.
            delivering = false;
            failure ??= { error };
            batch = [];
            if (ended) finish();
            else this.raw.resume();
          },
        );
      };
      query.on("result", (raw: Record<string, unknown>) => {
        if (failure) return;
        batch.push(normalise(raw));
        if (batch.length >= batchRows && !delivering) deliver();
      });
      query.on("error", (error: Error) => {
        ended = true;
        failure ??= { error: toSourceError(error) };
        if (!delivering) finish();
      });
      query.on("end", () => {
        if (ended) return; // after an error
        ended = true;
        if (!delivering) finish();
      });
    });
  }

  /**
   * Every row of a table in the order of `order` (ascending), streamed: rows are read
   * from the server as they are consumed, so memory stays bounded however large the table.
   */
  orderedRows(schema: TableSchema, order: OrderColumn[]): AsyncGenerator<Row> {
    const orderBy = order.map((o) => orderExpression(o)).join(", ");
    return this.stream(schema, `${selectAll(schema)} ORDER BY ${orderBy}`, [], 1_000);
  }

  /** The rows with these key values (at most a few thousand keys: one IN list). */
  async readKeys(schema: TableSchema, keyColumns: string[], keys: Row[]): Promise<Row[]> {
    if (keys.length === 0) return [];
    const tuple = keyColumns.length === 1 ? quoteIdent(keyColumns[0]!) : `(${keyColumns.map(quoteIdent).join(", ")})`;
    const placeholder = keyColumns.length === 1 ? "?" : `(${keyColumns.map(() => "?").join(", ")})`;
    const values = keys.flatMap((k) => keyColumns.map((c) => bindable(k[c])));
    const sql = `${selectAll(schema)} WHERE ${tuple} IN (${keys.map(() => placeholder).join(", ")})`;
    const rows: Row[] = [];
    for await (const row of this.stream(schema, sql, values, 1_000)) rows.push(row);
    return rows;
  }

  /** Rows of a query, normalised, pulled as consumed; errors of the read become SourceErrors. */
  private async *stream(schema: TableSchema, sql: string, values: unknown[], highWaterMark: number): AsyncGenerator<Row> {
    const normalise = rowNormaliser(schema.columns);
    const stream = this.raw.query({ sql, values, rowsAsArray: false }).stream({ highWaterMark });
    const rows = (stream as AsyncIterable<Record<string, unknown>>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Record<string, unknown>>;
        try {
          next = await rows.next();
        } catch (error) {
          throw toSourceError(error);
        }
        if (next.done) return;
        yield normalise(next.value);
      }
    } finally {
      stream.destroy();
    }
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

/** SELECT of the schema's columns, by name (the row normaliser expects exactly these). */
function selectAll(schema: TableSchema): string {
  return `SELECT ${schema.columns.map((c) => quoteIdent(c.name)).join(", ")} FROM ${quoteIdent(schema.database)}.${quoteIdent(schema.table)}`;
}

function orderExpression(order: OrderColumn): string {
  const column = quoteIdent(order.column);
  return order.bytes ? `CAST(CONVERT(${column} USING utf8mb4) AS BINARY)` : column;
}

/** A Row value as a query parameter (Row encodes exact numbers as strings, binary as bytes). */
function bindable(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value);
  return value;
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
