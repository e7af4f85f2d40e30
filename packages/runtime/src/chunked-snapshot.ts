// Snapshots in chunks, in the manner of Flink CDC's incremental snapshot: a
// table with an integer key is split into key ranges; each range is read at
// its own consistent position (no locks), and binlog changes to a key count
// only once they are newer than the read of the key's range. Progress is part
// of every checkpoint, so a restart continues mid-table; a range loaded twice
// (read, then a crash before the checkpoint) is replaced, not doubled.
import { ConsistentSnapshot, keySplitPoints, tableStats, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { comparePositions, type BinlogPosition, type Row, type RowChange, type SinkTableSpec, type TableSchema } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { sleep } from "./backoff";

/** One key range, [from, to); a missing bound is open. Bounds are decimal strings (JSON-safe). */
export interface SnapshotChunk {
  from?: string;
  to?: string;
  /** The position the range was read at; absent until it is read. */
  readAt?: BinlogPosition;
  rows?: number;
}

export interface TableSnapshotPlan {
  /** The integer column (the key's leading one) the ranges split; absent for a table read as one range. */
  keyColumn?: string;
  chunks: SnapshotChunk[];
  /**
   * Set when the plan was resumed from a checkpoint: any range not marked read may have been
   * loaded after that checkpoint, so loading it clears the range first. A fresh plan loads
   * into an empty table and skips that delete.
   */
  resumed?: boolean;
}

export const DEFAULT_CHUNK_ROWS = 50_000;
const BATCH_ROWS = 10_000;

/**
 * Splits a table into ranges of about `chunkRows` rows, plus open ranges below and above,
 * by its key's leading column when that is a NOT NULL integer (a composite key such as
 * (tenant_id, id) splits on tenant_id; rows sharing a leading value stay in one range).
 * Other keys are read as one range: ordering strings the way the source's collation does,
 * which deciding a binlog row's range would need, is not something JavaScript can do exactly.
 */
export async function planTable(source: SourceConnectionConfig, schema: TableSchema, keyColumns: string[], chunkRows = DEFAULT_CHUNK_ROWS): Promise<TableSnapshotPlan> {
  const leading = schema.columns.find((c) => c.name === keyColumns[0]);
  const integerKey = leading !== undefined && !leading.nullable && /^(tiny|small|medium|big)?int\b/i.test(leading.mysqlType);
  if (!integerKey) return { chunks: [{}] };
  const keyColumn = leading.name;
  const stats = await tableStats(source, schema.database, schema.table, keyColumn);
  if (stats.min === undefined || stats.max === undefined) return { keyColumn, chunks: [{}] };
  const count = Math.max(1, Math.ceil(stats.rows / chunkRows));
  const span = stats.max - stats.min + 1n;
  const chunks: SnapshotChunk[] = [{ to: stats.min.toString() }];
  if (span > BigInt(stats.rows) * 4n && stats.rows > chunkRows) {
    // Sparse or skewed keys: split where the rows are, not evenly over the span.
    const points = [stats.min, ...(await keySplitPoints(source, schema.database, schema.table, keyColumn, chunkRows))];
    if (points[points.length - 1]! <= stats.max) points.push(stats.max + 1n);
    for (let i = 0; i + 1 < points.length; i++) if (points[i]! < points[i + 1]!) chunks.push({ from: points[i]!.toString(), to: points[i + 1]!.toString() });
  } else {
    const step = span / BigInt(count) + (span % BigInt(count) === 0n ? 0n : 1n);
    for (let from = stats.min; from <= stats.max; from += step) chunks.push({ from: from.toString(), to: (from + step).toString() });
  }
  // Keys above the planned ones (rows inserted since) form the last range, read last, streamed.
  chunks.push({ from: chunks[chunks.length - 1]!.to });
  return { keyColumn, chunks };
}

export function planDone(plan: TableSnapshotPlan): boolean {
  return plan.chunks.every((c) => c.readAt !== undefined);
}

/** The newest position any range was read at: past it, every change of the table counts. */
export function planHorizon(plan: TableSnapshotPlan): BinlogPosition | undefined {
  let newest: BinlogPosition | undefined;
  for (const c of plan.chunks) if (c.readAt && (!newest || comparePositions(c.readAt, newest) > 0)) newest = c.readAt;
  return newest;
}

function chunkIndex(plan: TableSnapshotPlan, key: bigint): number {
  // Ranges are ordered and adjacent: binary search on the lower bounds.
  let lo = 0;
  let hi = plan.chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const from = plan.chunks[mid]!.from;
    if (from === undefined || BigInt(from) <= key) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Whether a change to this row, committed at `position`, is newer than the read of the row's range. */
export function countsForPlan(plan: TableSnapshotPlan, row: Row, position: BinlogPosition): boolean {
  const chunk = plan.keyColumn === undefined ? plan.chunks[0]! : plan.chunks[chunkIndex(plan, BigInt(String(row[plan.keyColumn])))]!;
  return chunk.readAt !== undefined && comparePositions(position, chunk.readAt) > 0;
}

/** The changes of one committed transaction that are newer than the reads of their rows' ranges. */
export function filterByPlan(plan: TableSnapshotPlan, changes: RowChange[], position: BinlogPosition): RowChange[] {
  const out: RowChange[] = [];
  for (const change of changes) {
    if (change.op === "insert") {
      if (countsForPlan(plan, change.after, position)) out.push(change);
    } else if (change.op === "delete") {
      if (countsForPlan(plan, change.before, position)) out.push(change);
    } else {
      const before = countsForPlan(plan, change.before, position);
      const after = countsForPlan(plan, change.after, position);
      if (before && after) out.push(change);
      // A key that moved between ranges: each half is judged by its own range.
      else if (before) out.push({ op: "delete", before: change.before });
      else if (after) out.push({ op: "insert", after: change.after });
    }
  }
  return out;
}

/**
 * Reads one range at a consistent position no older than `notBefore` (what the
 * stream has already handled; on MariaDB a commit can reach the binlog a moment
 * before a new snapshot sees it, so such a snapshot is simply taken again) and
 * replaces the range in the warehouse with it. `onOpened` learns the position
 * before any row is read: the stream must not apply this range's changes past it
 * until the load is in (see ChangeStream.settleLoadsBefore).
 */
export async function loadChunk(args: {
  source: SourceConnectionConfig;
  schema: TableSchema;
  target: SinkTableSpec;
  plan: TableSnapshotPlan;
  chunk: SnapshotChunk;
  notBefore: BinlogPosition;
  warehouse: Warehouse;
  /** Load on a connection of its own, beside other loads and the stream's commits. */
  concurrent?: boolean;
  onOpened?: (position: BinlogPosition) => void;
  onBatch?: (rows: number) => void;
  /** Source bytes read, added as they arrive. */
  onBytes?: (bytes: number) => void;
  /** Adds the time spent writing into the warehouse, ms (the rest of a chunk is reading the source). */
  onWriteMs?: (ms: number) => void;
}): Promise<void> {
  let snapshot = await ConsistentSnapshot.open(args.source);
  for (let attempt = 0; comparePositions(snapshot.position, args.notBefore) < 0; attempt++) {
    await snapshot.close();
    if (attempt > 200) throw new Error(`The source's snapshots stay behind its binlog (${args.notBefore.file}:${args.notBefore.pos})`);
    await sleep(5);
    snapshot = await ConsistentSnapshot.open(args.source);
  }
  args.onOpened?.(snapshot.position);
  let bytesCounted = snapshot.bytesRead;
  try {
    const range = args.plan.keyColumn
      ? {
          column: args.plan.keyColumn,
          ...(args.chunk.from !== undefined ? { from: BigInt(args.chunk.from) } : {}),
          ...(args.chunk.to !== undefined ? { to: BigInt(args.chunk.to) } : {}),
        }
      : undefined;
    const rows = await args.warehouse.replaceRange({
      target: args.target,
      range,
      clear: args.plan.resumed === true,
      concurrent: args.concurrent === true,
      fill: async (append) => {
        await snapshot.readTable(args.schema, BATCH_ROWS, async (batch) => {
          const bytes = snapshot.bytesRead;
          args.onBytes?.(bytes - bytesCounted);
          bytesCounted = bytes;
          const started = performance.now();
          await append(batch);
          args.onWriteMs?.(performance.now() - started);
          args.onBatch?.(batch.length);
        }, range);
      },
    });
    args.chunk.readAt = snapshot.position;
    args.chunk.rows = rows;
  } finally {
    await snapshot.close();
  }
}
