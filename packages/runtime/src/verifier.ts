// "Verify": compares a source table with its warehouse table, as users can ask
// from the console, the API or the CLI. Row counts first (fast), then the rows
// themselves, in ranges of about 50k rows, from plain read-only consistent
// snapshots (no locks on the source, no binlog position: none is needed here).
// - A key whose leading column is an integer is split where the snapshot planner
//   splits it (chunked-snapshot.ts: by rows, at split points for sparse keys); each
//   range is read on both sides and compared by checksum.
// - Other keys (VARCHAR, ...) are compared in one ordered, streamed merge: the
//   source sorted by the key's bytes (its collation's order is not one DuckDB or
//   JavaScript can reproduce), the warehouse read in pages of the same order, so
//   memory stays bounded whatever the table's size.
// A difference is checked again after the job had time to apply recent changes;
// only one that persists is reported, with sample keys.
import { ConsistentSnapshot, readTableSchema, tableStats, type SourceConnectionConfig } from "@tide/cdc-mysql";
import type { Row, SinkTableSpec, TableSchema } from "@tide/contracts";
import type { PrismaClient } from "@tide/db";
import { planColumn, qualified, quoteIdent, readExpression, readValue, type Warehouse } from "@tide/warehouse";
import { sleep } from "./backoff";
import { planTable, type SnapshotChunk } from "./chunked-snapshot";
import type { Logger } from "./logger";
import { canonicalRow, digestRows } from "./row-digest";

/** Rows per range. */
const RANGE_ROWS = 50_000;
/** Warehouse rows per page of an ordered merge. */
const PAGE_ROWS = 5_000;
/** Differing keys of a merged range kept to check again; a range with more is merged again instead. */
const RECHECK_KEYS = 1_000;
const ATTEMPTS = 4;
const SETTLE_MS = 1_500;
const INT64_MIN = -(2n ** 63n);
const UINT64_END = 2n ** 64n;

export interface KeyRangeDifference {
  /** Inclusive lower and exclusive upper key bound ("" when open), as text. */
  from: string;
  to: string;
  sourceRows: number;
  warehouseRows: number;
  /** A few keys present on one side only or with different values. */
  sampleKeys: string[];
}

interface VerifyTarget {
  verificationId: number;
  source: SourceConnectionConfig;
  database: string;
  table: string;
  sinkTable: string;
  keyColumns: string[];
}

type Progress = { total: (chunks: number) => Promise<unknown>; done: () => Promise<unknown> };

export async function verifyTable(prisma: PrismaClient, warehouse: Warehouse, target: VerifyTarget, log: Logger): Promise<void> {
  const [sinkSchema, sinkTable] = target.sinkTable.split(".") as [string, string];
  const update = (data: Parameters<PrismaClient["verification"]["update"]>[0]["data"]) =>
    prisma.verification.update({ where: { id: target.verificationId }, data });
  try {
    await update({ status: "running" });
    const schema = await readTableSchema(target.source, target.database, target.table);
    const spec = await warehouse.recordedSpec(sinkSchema, sinkTable);
    if (!spec) throw new Error(`The warehouse has no table ${target.sinkTable}`);
    const stats = await tableStats(target.source, target.database, target.table);
    const warehouseRows = await warehouse.countRows(sinkSchema, sinkTable);
    await update({ sourceRows: BigInt(stats.rows), warehouseRows: BigInt(warehouseRows) });

    let done = 0;
    const progress: Progress = {
      total: (chunks) => update({ chunksTotal: chunks }),
      done: () => update({ chunksDone: ++done }),
    };
    const plan = target.keyColumns.length > 0 ? await planTable(target.source, schema, target.keyColumns, RANGE_ROWS, { integerOnly: true }) : undefined;
    let differences: KeyRangeDifference[];
    if (plan?.keyColumn) {
      differences = await verifyIntegerRanges(target, schema, warehouse, spec, plan.keyColumn, plan.chunks, progress);
    } else if (target.keyColumns.length > 0) {
      differences = await verifyMerged(target, schema, warehouse, spec, Math.max(1, Math.ceil(stats.rows / RANGE_ROWS)), progress);
      await update({ chunksTotal: done });
    } else {
      // No key to order or split by: the table is compared whole.
      await progress.total(1);
      const diff = await checkWhole(target, schema, warehouse, spec);
      differences = diff ? [diff] : [];
      await progress.done();
    }
    const equal = differences.length === 0;
    await update({
      status: equal ? "equal" : "different",
      differences: differences.map((d) => ({ ...d })),
      message: equal
        ? `${stats.rows} rows on both sides; every key range matches`
        : `${differences.length} key range${differences.length === 1 ? "" : "s"} differ: ${differences.map(describeRange).join(", ")}`,
      finishedAt: new Date(),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.warn("verification failed", { table: `${target.database}.${target.table}`, error: message });
    await update({ status: "failed", message, finishedAt: new Date() }).catch(() => undefined);
  }
}

function describeRange(d: KeyRangeDifference): string {
  if (!d.from && !d.to) return `the whole table (keys ${d.sampleKeys.join(", ")})`;
  return `[${d.from || "…"}, ${d.to || "…"})${d.sampleKeys.length > 0 ? ` (keys ${d.sampleKeys.join(", ")})` : ""}`;
}

/** Ranges of the key's leading integer column, sized by rows, plus open ranges below and above. */
async function verifyIntegerRanges(
  target: VerifyTarget,
  schema: TableSchema,
  warehouse: Warehouse,
  spec: SinkTableSpec,
  keyColumn: string,
  chunks: SnapshotChunk[],
  progress: Progress,
): Promise<KeyRangeDifference[]> {
  await progress.total(chunks.length);
  const differences: KeyRangeDifference[] = [];
  for (const chunk of chunks) {
    const from = chunk.from === undefined ? undefined : BigInt(chunk.from);
    const to = chunk.to === undefined ? undefined : BigInt(chunk.to);
    let last: KeyRangeDifference | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(SETTLE_MS);
      const sourceSide = await readSource(target.source, schema, { column: keyColumn, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
      const warehouseSide = await warehouse.readKeyRange(spec.schema, spec.table, keyColumn, from ?? INT64_MIN, to ?? UINT64_END);
      const a = digestRows(sourceSide);
      const b = digestRows(warehouseSide);
      if (a.rows === b.rows && a.checksum === b.checksum) {
        last = undefined;
        break;
      }
      last = {
        from: (from ?? INT64_MIN).toString(),
        to: (to ?? UINT64_END).toString(),
        sourceRows: a.rows,
        warehouseRows: b.rows,
        sampleKeys: sampleDifferentKeys(sourceSide, warehouseSide, target.keyColumns),
      };
    }
    if (last) differences.push(last);
    await progress.done();
  }
  return differences;
}

async function checkWhole(target: VerifyTarget, schema: TableSchema, warehouse: Warehouse, spec: SinkTableSpec): Promise<KeyRangeDifference | undefined> {
  let last: KeyRangeDifference | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(SETTLE_MS);
    const sourceSide = await readSource(target.source, schema);
    const warehouseSide = await warehouse.readAll(spec.schema, spec.table);
    const a = digestRows(sourceSide);
    const b = digestRows(warehouseSide);
    if (a.rows === b.rows && a.checksum === b.checksum) return undefined;
    last = { from: "", to: "", sourceRows: a.rows, warehouseRows: b.rows, sampleKeys: sampleDifferentKeys(sourceSide, warehouseSide, target.keyColumns) };
  }
  return last;
}

async function readSource(config: SourceConnectionConfig, schema: TableSchema, range?: { column: string; from?: bigint; to?: bigint }): Promise<Row[]> {
  const snapshot = await ConsistentSnapshot.open(config, { position: false });
  try {
    const rows: Row[] = [];
    await snapshot.readTable(schema, 10_000, async (batch) => void rows.push(...batch), range);
    return rows;
  } finally {
    await snapshot.close();
  }
}

function sampleDifferentKeys(source: Row[], warehouse: Row[], keyColumns: string[], limit = 5): string[] {
  const keyOf = (r: Row) => (keyColumns.length > 0 ? keyText(r, keyColumns) : canonicalRow(r));
  const sourceRows = new Map(source.map((r) => [keyOf(r), canonicalRow(r)]));
  const warehouseRows = new Map(warehouse.map((r) => [keyOf(r), canonicalRow(r)]));
  const keys: string[] = [];
  for (const [key, row] of sourceRows) if (warehouseRows.get(key) !== row && keys.length < limit) keys.push(key);
  for (const key of warehouseRows.keys()) if (!sourceRows.has(key) && keys.length < limit) keys.push(key);
  return keys;
}

// ---- Ordered merge, for keys that do not lead with an integer column ----

type ColumnPlan = ReturnType<typeof planColumn>;
type OrderColumn = Parameters<ConsistentSnapshot<undefined>["orderedRows"]>[1][number];

interface MergeKeys {
  columns: string[];
  plans: ColumnPlan[];
  compare: (a: Row, b: Row) => number;
}

interface MergedRange {
  /** Bounds as key rows: from inclusive, to exclusive; undefined is open. */
  from?: Row;
  to?: Row;
  sourceRows: number;
  warehouseRows: number;
  differing: number;
  /** The first RECHECK_KEYS differing keys. */
  keys: Row[];
}

async function verifyMerged(
  target: VerifyTarget,
  schema: TableSchema,
  warehouse: Warehouse,
  spec: SinkTableSpec,
  expectedRanges: number,
  progress: Progress,
): Promise<KeyRangeDifference[]> {
  await progress.total(expectedRanges);
  const keys = mergeKeys(spec, target.keyColumns);
  const ranges = await mergeRange(target, schema, warehouse, spec, keys, {}, progress);
  const differences: KeyRangeDifference[] = [];
  for (let range of ranges) {
    if (range.differing === 0) continue;
    let remaining = range.keys;
    for (let attempt = 1; attempt < ATTEMPTS && (remaining.length > 0 || range.differing > range.keys.length); attempt++) {
      await sleep(SETTLE_MS);
      if (range.differing > range.keys.length) {
        // Too many differences to check key by key (the warehouse moved on during a long pass): merge the range again.
        const [again] = await mergeRange(target, schema, warehouse, spec, keys, { from: range.from, to: range.to, whole: true });
        range = { ...again!, from: range.from, to: range.to };
        remaining = range.keys;
      } else {
        remaining = await stillDifferent(target, schema, warehouse, spec, keys, remaining);
      }
    }
    if (remaining.length === 0) continue;
    differences.push({
      from: range.from ? keyText(range.from, keys.columns) : "",
      to: range.to ? keyText(range.to, keys.columns) : "",
      sourceRows: range.sourceRows,
      warehouseRows: range.warehouseRows,
      sampleKeys: remaining.slice(0, 5).map((k) => keyText(k, keys.columns)),
    });
  }
  return differences;
}

/**
 * Merges the source (one read-only snapshot, sorted by the key's bytes) with the warehouse
 * (pages in the same order) between the bounds, cutting ranges of RANGE_ROWS source rows
 * unless `whole`.
 */
async function mergeRange(
  target: VerifyTarget,
  schema: TableSchema,
  warehouse: Warehouse,
  spec: SinkTableSpec,
  keys: MergeKeys,
  bounds: { from?: Row | undefined; to?: Row | undefined; whole?: boolean },
  progress?: Progress,
): Promise<MergedRange[]> {
  const order: OrderColumn[] = keys.columns.map((column, i) => ({ column, bytes: keys.plans[i]!.kind === "text" }));
  const snapshot = await ConsistentSnapshot.open(target.source, { position: false });
  const source = snapshot.orderedRows(schema, order);
  const ranges: MergedRange[] = [];
  try {
    const pages = warehousePages(warehouse, spec, keys, bounds.from, bounds.to);
    const inBounds = (row: Row) => (!bounds.from || keys.compare(row, bounds.from) >= 0) && (!bounds.to || keys.compare(row, bounds.to) < 0);
    // The source is read whole and filtered here: a bound on the byte expression could not use an index either.
    const nextSource = async (): Promise<Row | undefined> => {
      for (;;) {
        const next = await source.next();
        if (next.done) return undefined;
        if (inBounds(next.value)) return next.value;
        if (bounds.to && keys.compare(next.value, bounds.to) >= 0) return undefined;
      }
    };
    const nextWarehouse = async () => {
      const next = await pages.next();
      return next.done ? undefined : next.value;
    };
    let range: MergedRange = { ...(bounds.from ? { from: bounds.from } : {}), sourceRows: 0, warehouseRows: 0, differing: 0, keys: [] };
    const differs = (row: Row) => {
      range.differing += 1;
      if (range.keys.length < RECHECK_KEYS) range.keys.push(keyOnly(row, keys.columns));
    };
    let s = await nextSource();
    let w = await nextWarehouse();
    while (s || w) {
      const c = !s ? 1 : !w ? -1 : keys.compare(s, w);
      if (c <= 0 && !bounds.whole && range.sourceRows >= RANGE_ROWS) {
        // A new range starts at this source key; warehouse-only keys before it stayed in the last one.
        const to = keyOnly(s!, keys.columns);
        ranges.push({ ...range, to });
        await progress?.done();
        range = { from: to, sourceRows: 0, warehouseRows: 0, differing: 0, keys: [] };
      }
      if (c < 0) {
        range.sourceRows += 1;
        differs(s!);
        s = await nextSource();
      } else if (c > 0) {
        range.warehouseRows += 1;
        differs(w!);
        w = await nextWarehouse();
      } else {
        range.sourceRows += 1;
        range.warehouseRows += 1;
        if (canonicalRow(s!) !== canonicalRow(w!)) differs(s!);
        s = await nextSource();
        w = await nextWarehouse();
      }
    }
    ranges.push({ ...range, ...(bounds.to ? { to: bounds.to } : {}) });
    await progress?.done();
  } finally {
    // Ends the streamed read (a paused stream would hold the connection) before the snapshot closes.
    await source.return(undefined);
    await snapshot.close();
  }
  return ranges;
}

/** The keys among `keys` whose rows still differ, read afresh on both sides. */
async function stillDifferent(target: VerifyTarget, schema: TableSchema, warehouse: Warehouse, spec: SinkTableSpec, keys: MergeKeys, candidates: Row[]): Promise<Row[]> {
  const snapshot = await ConsistentSnapshot.open(target.source, { position: false });
  const source = new Map<string, string>();
  try {
    for (const row of await snapshot.readKeys(schema, keys.columns, candidates)) source.set(keyText(row, keys.columns), canonicalRow(row));
  } finally {
    await snapshot.close();
  }
  const warehouseSide = new Map<string, string>();
  const where = candidates.map((k) => `(${keys.columns.map((c, i) => `${quoteIdent(c)} = ${literal(k[c], keys.plans[i]!)}`).join(" AND ")})`).join(" OR ");
  for (const row of await warehouseQuery(warehouse, spec, where, "", candidates.length + 1)) warehouseSide.set(keyText(row, keys.columns), canonicalRow(row));
  return candidates.filter((k) => {
    const key = keyText(k, keys.columns);
    return source.get(key) !== warehouseSide.get(key);
  });
}

/** Warehouse rows in key order between the bounds, a page at a time (keyset pagination). */
async function* warehousePages(warehouse: Warehouse, spec: SinkTableSpec, keys: MergeKeys, from: Row | undefined, to: Row | undefined): AsyncGenerator<Row> {
  const orderBy = keys.columns.map(quoteIdent).join(", ");
  let after: Row | undefined;
  for (;;) {
    const conditions = [
      ...(from ? [compareKey(keys, ">=", from)] : []),
      ...(to ? [compareKey(keys, "<", to)] : []),
      ...(after ? [compareKey(keys, ">", after)] : []),
    ];
    const page = await warehouseQuery(warehouse, spec, conditions.join(" AND "), ` ORDER BY ${orderBy} LIMIT ${PAGE_ROWS}`, PAGE_ROWS);
    for (const row of page) yield row;
    if (page.length < PAGE_ROWS) return;
    after = keyOnly(page[page.length - 1]!, keys.columns);
  }
}

/** A lexicographic comparison of the key columns with a key, as SQL (DuckDB). */
function compareKey(keys: MergeKeys, op: ">" | ">=" | "<", key: Row): string {
  const strict = op === ">=" ? ">" : op;
  const last = op === ">=" ? ">=" : op;
  const parts: string[] = [];
  for (let i = 0; i < keys.columns.length; i++) {
    const equal = keys.columns.slice(0, i).map((c, j) => `${quoteIdent(c)} = ${literal(key[c], keys.plans[j]!)}`);
    const column = keys.columns[i]!;
    const cmp = `${quoteIdent(column)} ${i === keys.columns.length - 1 ? last : strict} ${literal(key[column], keys.plans[i]!)}`;
    parts.push(`(${[...equal, cmp].join(" AND ")})`);
  }
  return `(${parts.join(" OR ")})`;
}

/**
 * Rows of the warehouse table in the Row encoding the source reader produces, through the
 * warehouse's read-only query path, with the warehouse's own read conversion (Warehouse.readRows
 * has no ordered, paged form).
 */
async function warehouseQuery(warehouse: Warehouse, spec: SinkTableSpec, where: string, tail: string, maxRows: number): Promise<Row[]> {
  const plans = spec.columns.map((c) => [c.name, planColumn(c.mysqlType)] as const);
  const select = plans.map(([name, plan]) => `${readExpression(quoteIdent(name), plan, { hexBlobs: true })} AS ${quoteIdent(name)}`).join(", ");
  const sql = `SELECT ${select} FROM ${qualified(spec.schema, spec.table)}${where ? ` WHERE ${where}` : ""}${tail}`;
  const result = await warehouse.query(sql, { maxRows, timeoutMs: 600_000 });
  return result.rows.map((values) => {
    const row: Row = {};
    plans.forEach(([name, plan], i) => (row[name] = readValue(values[i], plan, { hexBlobs: true })));
    return row;
  });
}

/** A key value as a DuckDB literal; values are validated or quoted, never pasted raw. */
function literal(value: unknown, plan: ColumnPlan): string {
  if (value === null || value === undefined) return "NULL";
  switch (plan.kind) {
    case "integer":
    case "bigint": {
      const text = String(value);
      if (!/^-?\d+$/.test(text)) throw new Error(`Key value ${JSON.stringify(text)} is not an integer`);
      return text;
    }
    case "decimal": {
      const text = String(value);
      if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`Key value ${JSON.stringify(text)} is not a decimal`);
      return text;
    }
    case "float":
    case "double": {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`Key value ${String(value)} is not a finite number`);
      return `CAST(${quoteText(String(n))} AS DOUBLE)`;
    }
    case "blob":
      return `from_hex(${quoteText(Buffer.from(value as Uint8Array).toString("hex"))})`;
    case "date":
    case "timestamp": {
      const text = String(value);
      // Zero dates are stored as -infinity (see value-codec.ts).
      return /^0000-00-00/.test(text) ? `'-infinity'` : quoteText(text);
    }
    default:
      return quoteText(String(value));
  }
}

function quoteText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The comparison both sides sort by: numbers as numbers, text and bytes by their bytes (DuckDB's and the source query's order). */
function mergeKeys(spec: SinkTableSpec, keyColumns: string[]): MergeKeys {
  const plans = keyColumns.map((k) => {
    const column = spec.columns.find((c) => c.name === k);
    if (!column) throw new Error(`The warehouse table ${spec.schema}.${spec.table} has no key column ${k}`);
    return planColumn(column.mysqlType);
  });
  const comparators = plans.map((plan) => valueComparator(plan));
  return {
    columns: keyColumns,
    plans,
    compare: (a, b) => {
      for (let i = 0; i < keyColumns.length; i++) {
        const c = comparators[i]!(a[keyColumns[i]!], b[keyColumns[i]!]);
        if (c !== 0) return c;
      }
      return 0;
    },
  };
}

function valueComparator(plan: ColumnPlan): (a: unknown, b: unknown) => number {
  const sign = (n: number | bigint) => (n < 0 ? -1 : n > 0 ? 1 : 0);
  switch (plan.kind) {
    case "integer":
    case "bigint":
      return (a, b) => sign(BigInt(String(a)) - BigInt(String(b)));
    case "decimal":
      return (a, b) => compareDecimal(String(a), String(b));
    case "float":
    case "double":
      return (a, b) => sign(Number(a) - Number(b));
    case "blob":
      return (a, b) => Buffer.compare(Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array));
    case "date":
    case "timestamp":
      // Fixed-width text ('YYYY-MM-DD HH:MM:SS.ffffff'): text order is time order; the zero date sorts first as -infinity does.
      return (a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
    default:
      return (a, b) => Buffer.compare(Buffer.from(String(a), "utf8"), Buffer.from(String(b), "utf8"));
  }
}

function compareDecimal(a: string, b: string): number {
  const scale = Math.max(a.split(".")[1]?.length ?? 0, b.split(".")[1]?.length ?? 0);
  const scaled = (t: string) => {
    const [whole, fraction = ""] = t.split(".");
    // "-0.50" becomes -050: the sign stays with the digits.
    return BigInt(`${whole}${fraction.padEnd(scale, "0")}`);
  };
  const d = scaled(a) - scaled(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

function keyOnly(row: Row, keyColumns: string[]): Row {
  const key: Row = {};
  for (const c of keyColumns) key[c] = row[c];
  return key;
}

function keyText(row: Row, keyColumns: string[]): string {
  return keyColumns.map((k) => (row[k] instanceof Uint8Array ? Buffer.from(row[k] as Uint8Array).toString("hex") : String(row[k]))).join(",");
}
