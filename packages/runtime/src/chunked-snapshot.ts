// Snapshots in chunks, in the manner of Flink CDC's incremental snapshot: a
// table is split into ranges of its key's leading column (even splits of an
// integer span, or split points found on the key index for skewed integers,
// decimals, dates, binary and character strings); each range is read at its own
// consistent position (no locks), and binlog changes to a key count only once
// they are newer than the read of the key's range. Which range a binlog row falls
// in is decided in JavaScript with the source's own ordering (see KeyOrder; for
// strings, collation weights the source computes). Progress is part of every
// checkpoint, and each range's load records itself in the warehouse in the same
// transaction, so a restart continues mid-table and never loads a range twice.
import { randomUUID } from "node:crypto";
import { CollationWeigher, compareWeights, ConsistentSnapshot, keyOrderKind, keySplitPoints, keySplitValues, normaliserFor, readKeyOrder, tableStats, type KeyOrder, type KeyRange, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { comparePositions, type BinlogPosition, type Row, type RowChange, type SinkTableSpec, type TableSchema } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { sleep } from "./backoff";

/**
 * One key range, [from, to); a missing bound is open. Bounds are JSON-safe: the Row
 * encoding of the key (decimal strings for integers), hex for binary keys.
 */
export interface SnapshotChunk {
  from?: string;
  to?: string;
  /** Character keys: hex of the lower bound's collation weight. */
  fromWeight?: string;
  /** The position the range was read at; absent until it is read. */
  readAt?: BinlogPosition;
  rows?: number;
}

export interface TableSnapshotPlan {
  /** Names the plan in the warehouse's record of loaded ranges. */
  id?: string;
  /** The column (the key's leading one) the ranges split; absent for a table read as one range. */
  keyColumn?: string;
  /** How keyColumn orders on the source; absent means an integer (plans made before other keys split). */
  keyOrder?: KeyOrder;
  chunks: SnapshotChunk[];
}

export const DEFAULT_CHUNK_ROWS = 50_000;
const BATCH_ROWS = 10_000;

/**
 * Splits a table into ranges of about `chunkRows` rows by its key's leading column,
 * when that is NOT NULL and of a type whose order can be reproduced exactly (integers,
 * decimals, dates and date-times, binary and character strings of one-level
 * collations). A composite key such as (tenant_id, id) splits on tenant_id; rows sharing
 * a leading value stay in one range. Other keys are read as one range (streamed). Integer
 * plans have open ranges below and above; the last range of every plan is open above,
 * holding the keys inserted since the plan, and is read last.
 */
export async function planTable(
  source: SourceConnectionConfig,
  schema: TableSchema,
  keyColumns: string[],
  chunkRows = DEFAULT_CHUNK_ROWS,
  options: { integerOnly?: boolean } = {},
): Promise<TableSnapshotPlan> {
  const id = randomUUID();
  const leading = schema.columns.find((c) => c.name === keyColumns[0]);
  if (!leading || leading.nullable) return { id, chunks: [{}] };
  if (options.integerOnly && keyOrderKind(leading.mysqlType) !== "integer") return { id, chunks: [{}] };
  const order = await readKeyOrder(source, schema.database, schema.table, leading.name, leading.mysqlType);
  if (!order) return { id, chunks: [{}] };
  const keyColumn = leading.name;
  if (order.kind === "integer") return { id, keyColumn, keyOrder: order, chunks: await integerChunks(source, schema, keyColumn, chunkRows) };

  const normalise = normaliserFor(leading.mysqlType);
  const points = (await keySplitValues(source, schema.database, schema.table, keyColumn, chunkRows, order.cast)).map((v) => normalise(v));
  if (points.length === 0) return { id, chunks: [{}] };
  const encoded = points.map((p) => (Buffer.isBuffer(p) ? p.toString("hex") : String(p)));
  const chunks: SnapshotChunk[] = [{ to: encoded[0]! }];
  for (let i = 0; i < encoded.length; i++) chunks.push({ from: encoded[i]!, ...(i + 1 < encoded.length ? { to: encoded[i + 1]! } : {}) });
  if (order.kind === "collated") {
    const weigher = await CollationWeigher.open(source, order);
    try {
      const weights = await weigher.weigh(points as string[]);
      for (let i = 0; i < weights.length; i++) chunks[i + 1]!.fromWeight = weights[i]!.toString("hex");
    } finally {
      await weigher.close();
    }
  }
  return { id, keyColumn, keyOrder: order, chunks };
}

async function integerChunks(source: SourceConnectionConfig, schema: TableSchema, keyColumn: string, chunkRows: number): Promise<SnapshotChunk[]> {
  const stats = await tableStats(source, schema.database, schema.table, keyColumn);
  if (stats.min === undefined || stats.max === undefined) return [{}];
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
  return chunks;
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

/** Collation weights of the character keys of changes in hand, by key (see ChangeStream.weighKeys). */
export type KeyWeights = Map<string, Buffer>;

/** sign(key - chunk.from) in the source's ordering of the key column; chunk.from is set. */
type BoundComparison = (key: unknown, chunk: SnapshotChunk) => number;

const boundBytes = new WeakMap<SnapshotChunk, Buffer>();
const bytesOf = (chunk: SnapshotChunk, field: "from" | "fromWeight") => {
  let bytes = boundBytes.get(chunk);
  if (!bytes) boundBytes.set(chunk, (bytes = Buffer.from(chunk[field]!, "hex")));
  return bytes;
};

function boundComparison(plan: TableSnapshotPlan, weights?: KeyWeights): BoundComparison {
  const order = plan.keyOrder;
  switch (order?.kind ?? "integer") {
    case "integer":
      return (key, chunk) => {
        const k = BigInt(String(key));
        const from = BigInt(chunk.from!);
        return k < from ? -1 : k > from ? 1 : 0;
      };
    case "decimal":
      return (key, chunk) => compareDecimals(String(key), chunk.from!);
    case "temporal":
      // One column's values share one fixed-width form ('2024-01-31 23:59:59.000000'): text order is time order.
      return (key, chunk) => {
        const k = String(key);
        return k < chunk.from! ? -1 : k > chunk.from! ? 1 : 0;
      };
    case "bytes":
      return (key, chunk) => Buffer.compare(key as Buffer, bytesOf(chunk, "from"));
    case "collated": {
      const pad = order!.padWeight !== undefined ? Buffer.from(order!.padWeight, "hex") : undefined;
      return (key, chunk) => {
        const weight = weights?.get(String(key));
        if (!weight) throw new Error(`No collation weight for key ${JSON.stringify(String(key))} of ${plan.keyColumn}`);
        return compareWeights(weight, bytesOf(chunk, "fromWeight"), pad);
      };
    }
  }
}

/** Compares two decimal strings ('-12.50', '3') by value. */
export function compareDecimals(a: string, b: string): number {
  const parse = (text: string) => {
    const negative = text.startsWith("-");
    const [whole = "", fraction = ""] = text.replace(/^[-+]/, "").split(".");
    const int = whole.replace(/^0+/, "");
    const frac = fraction.replace(/0+$/, "");
    return { negative: negative && (int !== "" || frac !== ""), int, frac };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  let magnitude = x.int.length !== y.int.length ? Math.sign(x.int.length - y.int.length) : x.int < y.int ? -1 : x.int > y.int ? 1 : 0;
  if (magnitude === 0) {
    const width = Math.max(x.frac.length, y.frac.length);
    const fx = x.frac.padEnd(width, "0");
    const fy = y.frac.padEnd(width, "0");
    magnitude = fx < fy ? -1 : fx > fy ? 1 : 0;
  }
  return x.negative ? -magnitude || 0 : magnitude;
}

/** The index of the range a key value falls in (character keys need their weight in `weights`). */
export function rangeIndexOf(plan: TableSnapshotPlan, key: unknown, weights?: KeyWeights): number {
  return plan.keyColumn === undefined ? 0 : chunkIndex(plan, key, boundComparison(plan, weights));
}

function chunkIndex(plan: TableSnapshotPlan, key: unknown, compare: BoundComparison): number {
  // Ranges are ordered and adjacent: binary search on the lower bounds.
  let lo = 0;
  let hi = plan.chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const chunk = plan.chunks[mid]!;
    if (chunk.from === undefined || compare(key, chunk) >= 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The changes of one committed transaction that are newer than the reads of their rows'
 * ranges. Character keys need their collation weights in `weights`.
 */
export function filterByPlan(plan: TableSnapshotPlan, changes: RowChange[], position: BinlogPosition, weights?: KeyWeights): RowChange[] {
  const compare = boundComparison(plan, weights);
  const counts = (row: Row) => {
    const chunk = plan.keyColumn === undefined ? plan.chunks[0]! : plan.chunks[chunkIndex(plan, row[plan.keyColumn], compare)]!;
    return chunk.readAt !== undefined && comparePositions(position, chunk.readAt) > 0;
  };
  const out: RowChange[] = [];
  for (const change of changes) {
    if (change.op === "insert") {
      if (counts(change.after)) out.push(change);
    } else if (change.op === "delete") {
      if (counts(change.before)) out.push(change);
    } else {
      const before = counts(change.before);
      const after = counts(change.after);
      if (before && after) out.push(change);
      // A key that moved between ranges: each half is judged by its own range.
      else if (before) out.push({ op: "delete", before: change.before });
      else if (after) out.push({ op: "insert", after: change.after });
    }
  }
  return out;
}

/** Whether the plan's ranges are decided by collation weights, which the stream must fetch for its keys. */
export function needsWeights(plan: TableSnapshotPlan): boolean {
  return plan.keyColumn !== undefined && plan.keyOrder?.kind === "collated";
}

/** Marks ranges whose load reached the warehouse after the checkpoint the plan came from as read. */
export async function adoptLoadedRanges(warehouse: Warehouse, plans: Iterable<TableSnapshotPlan>): Promise<number> {
  let adopted = 0;
  for (const plan of plans) {
    if (!plan.id) continue;
    const loaded = await warehouse.loadedRanges(plan.id);
    for (const [index, load] of loaded) {
      const chunk = plan.chunks[index];
      if (!chunk || chunk.readAt) continue;
      chunk.readAt = load.readAt as BinlogPosition;
      chunk.rows = load.rows;
      adopted += 1;
    }
  }
  return adopted;
}

/** The source read of a range (undefined: the whole table). */
export function chunkRange(plan: TableSnapshotPlan, chunk: SnapshotChunk): KeyRange | undefined {
  const { keyColumn, keyOrder } = plan;
  if (keyColumn === undefined) return undefined;
  const bound = (value: string) => (keyOrder === undefined || keyOrder.kind === "integer" ? BigInt(value) : keyOrder.kind === "bytes" ? Buffer.from(value, "hex") : value);
  return {
    column: keyColumn,
    ...(chunk.from !== undefined ? { from: bound(chunk.from) } : {}),
    ...(chunk.to !== undefined ? { to: bound(chunk.to) } : {}),
    ...(keyOrder?.cast ? { cast: keyOrder.cast } : {}),
  };
}

/**
 * Reads one range at a consistent position no older than `notBefore` (what the
 * stream has already handled; on MariaDB a commit can reach the binlog a moment
 * before a new snapshot sees it, so such a snapshot is simply taken again) and
 * loads it into the warehouse, recording the load in the same transaction (the range
 * holds nothing before: changes to unread ranges are skipped). `onOpened` learns the position
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
    const range = chunkRange(args.plan, args.chunk);
    const index = args.plan.chunks.indexOf(args.chunk);
    const rows = await args.warehouse.loadRange({
      target: args.target,
      concurrent: args.concurrent === true,
      // A plan without an id was checkpointed by a Tide that did not record loads (integer keys
      // only): the range may hold rows loaded after that checkpoint, so it is cleared first.
      ...(args.plan.id ? { record: { planId: args.plan.id, index, readAt: snapshot.position } } : { clear: range ?? "all rows" }),
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
