// "Verify": compares a source table with its warehouse table, as users can ask
// from the console, the API or the CLI. Row counts first (fast), then a
// checksum per key range, read range by range from a consistent snapshot (no
// locks on the source). A range that differs is read again after the job had
// time to apply recent changes; only a difference that persists is reported.
import { ConsistentSnapshot, readTableSchema, tableStats, type SourceConnectionConfig } from "@tide/cdc-mysql";
import type { Row } from "@tide/contracts";
import type { PrismaClient } from "@tide/db";
import type { Warehouse } from "@tide/warehouse";
import { sleep } from "./backoff";
import type { Logger } from "./logger";
import { canonicalRow, digestRows } from "./row-digest";

/** Keys per range. */
const RANGE_KEYS = 50_000n;
const ATTEMPTS = 4;
const SETTLE_MS = 1_500;

export interface KeyRangeDifference {
  /** Inclusive lower and exclusive upper key bound, as decimal strings. */
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

export async function verifyTable(prisma: PrismaClient, warehouse: Warehouse, target: VerifyTarget, log: Logger): Promise<void> {
  const [sinkSchema, sinkTable] = target.sinkTable.split(".") as [string, string];
  const update = (data: Parameters<PrismaClient["verification"]["update"]>[0]["data"]) =>
    prisma.verification.update({ where: { id: target.verificationId }, data });
  try {
    await update({ status: "running" });
    const schema = await readTableSchema(target.source, target.database, target.table);
    const keyColumn = target.keyColumns.length === 1 ? target.keyColumns[0]! : undefined;
    const integerKey = keyColumn !== undefined && /int/i.test(schema.columns.find((c) => c.name === keyColumn)?.mysqlType ?? "");
    const stats = await tableStats(target.source, target.database, target.table, integerKey ? keyColumn : undefined);
    const warehouseRows = await warehouse.countRows(sinkSchema, sinkTable);
    const ranges: [bigint, bigint][] = [];
    if (integerKey && stats.min !== undefined && stats.max !== undefined) {
      for (let from = stats.min; from <= stats.max; from += RANGE_KEYS) ranges.push([from, from + RANGE_KEYS]);
    }
    // Rows below or above the source's key bounds can only be in the warehouse: cover them too.
    const wholeTable = ranges.length === 0;
    await update({ sourceRows: BigInt(stats.rows), warehouseRows: BigInt(warehouseRows), chunksTotal: wholeTable ? 1 : ranges.length + 2 });

    const differences: KeyRangeDifference[] = [];
    const checkRange = async (range: [bigint, bigint] | undefined): Promise<KeyRangeDifference | undefined> => {
      let last: KeyRangeDifference | undefined;
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt > 0) await sleep(SETTLE_MS);
        const sourceSide = await readSource(target.source, schema, range && keyColumn ? { column: keyColumn, from: range[0], to: range[1] } : undefined);
        const warehouseSide = range && keyColumn
          ? await warehouse.readKeyRange(sinkSchema, sinkTable, keyColumn, range[0], range[1])
          : await warehouse.readAll(sinkSchema, sinkTable);
        const a = digestRows(sourceSide);
        const b = digestRows(warehouseSide);
        if (a.rows === b.rows && a.checksum === b.checksum) return undefined;
        last = {
          from: range ? range[0].toString() : "",
          to: range ? range[1].toString() : "",
          sourceRows: a.rows,
          warehouseRows: b.rows,
          sampleKeys: sampleDifferentKeys(sourceSide, warehouseSide, target.keyColumns),
        };
      }
      return last;
    };

    let done = 0;
    const progress = () => update({ chunksDone: ++done });
    if (wholeTable) {
      const diff = await checkRange(undefined);
      if (diff) differences.push(diff);
      await progress();
    } else {
      const min = ranges[0]![0];
      const max = ranges[ranges.length - 1]![1];
      // Below the smallest and above the largest source key: anything there is extra in the warehouse.
      for (const range of [[-(2n ** 63n), min], ...ranges, [max, 2n ** 64n]] as [bigint, bigint][]) {
        const diff = await checkRange(range);
        if (diff) differences.push(diff);
        await progress();
      }
    }
    const equal = differences.length === 0;
    await update({
      status: equal ? "equal" : "different",
      differences: differences.map((d) => ({ ...d })),
      message: equal
        ? `${stats.rows} rows on both sides; every key range matches`
        : `${differences.length} key range${differences.length === 1 ? "" : "s"} differ: ${differences.map((d) => (d.from ? `[${d.from}, ${d.to})` : "the whole table")).join(", ")}`,
      finishedAt: new Date(),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.warn("verification failed", { table: `${target.database}.${target.table}`, error: message });
    await update({ status: "failed", message, finishedAt: new Date() }).catch(() => undefined);
  }
}

async function readSource(config: SourceConnectionConfig, schema: Awaited<ReturnType<typeof readTableSchema>>, range?: { column: string; from: bigint; to: bigint }): Promise<Row[]> {
  const snapshot = await ConsistentSnapshot.open(config);
  try {
    const rows: Row[] = [];
    await snapshot.readTable(schema, 10_000, async (batch) => void rows.push(...batch), range);
    return rows;
  } finally {
    await snapshot.close();
  }
}

function sampleDifferentKeys(source: Row[], warehouse: Row[], keyColumns: string[], limit = 5): string[] {
  const keyOf = (r: Row) => (keyColumns.length > 0 ? keyColumns.map((k) => String(r[k])).join(",") : canonicalRow(r));
  const sourceRows = new Map(source.map((r) => [keyOf(r), canonicalRow(r)]));
  const warehouseRows = new Map(warehouse.map((r) => [keyOf(r), canonicalRow(r)]));
  const keys: string[] = [];
  for (const [key, row] of sourceRows) if (warehouseRows.get(key) !== row && keys.length < limit) keys.push(key);
  for (const key of warehouseRows.keys()) if (!sourceRows.has(key) && keys.length < limit) keys.push(key);
  return keys;
}
