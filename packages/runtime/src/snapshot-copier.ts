// Copies the selected tables' existing rows into the warehouse from one
// consistent source snapshot, and returns the binlog position that snapshot
// corresponds to: streaming from there has no gap and no duplicate.
import { ConsistentSnapshot, type SourceConnectionConfig } from "@tide/cdc-mysql";
import type { BinlogPosition, SinkTableSpec, TableSchema } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { crashPoint } from "./crash-points";
import type { JobMetrics } from "./job-metrics";
import type { JobStore } from "./job-store";
import type { Logger } from "./logger";

export interface SnapshotTable {
  schema: TableSchema;
  target: SinkTableSpec;
}

const BATCH_ROWS = 20_000;
const PROGRESS_EVERY_MS = 1_000;

interface CopyArgs {
  jobId: number;
  tables: SnapshotTable[];
  warehouse: Warehouse;
  store: JobStore;
  metrics: JobMetrics;
  log: Logger;
  signal: AbortSignal;
}

/** Opens a consistent snapshot, copies the tables from it, and returns its position. */
export async function copySnapshot(args: CopyArgs & { source: SourceConnectionConfig }): Promise<BinlogPosition> {
  const snapshot = await ConsistentSnapshot.open(args.source);
  try {
    await copyFromSnapshot(snapshot, args);
    return snapshot.position;
  } finally {
    await snapshot.close();
  }
}

/** Copies the tables from an open snapshot (each table afresh: a crashed copy left rows behind). */
export async function copyFromSnapshot(snapshot: ConsistentSnapshot, args: CopyArgs): Promise<void> {
  const { jobId, warehouse, store, metrics, log, signal } = args;
  log.info("snapshot opened", { position: snapshot.position, tables: args.tables.map((t) => `${t.schema.database}.${t.schema.table}`) });
  for (const { schema, target } of args.tables) {
    if (signal.aborted) throw new Error("snapshot interrupted");
    const ref = { database: schema.database, table: schema.table };
    await warehouse.dropTable(target.schema, target.table);
    await warehouse.ensureTable(target);
    metrics.tablePhases.set(`${schema.database}.${schema.table}`, "snapshotting");
    await store.setTablePhase(jobId, ref, "snapshotting", { rowsCopied: 0, startedAt: new Date() });
    let copied = 0;
    let reported = 0;
    let lastReport = Date.now();
    await snapshot.readTable(schema, BATCH_ROWS, async (rows) => {
      if (signal.aborted) throw new Error("snapshot interrupted");
      await warehouse.appendRows({ jobId: String(jobId), target, rows });
      copied += rows.length;
      metrics.snapshotRowsCopied += rows.length;
      crashPoint("during-snapshot");
      if (Date.now() - lastReport > PROGRESS_EVERY_MS) {
        await store.addRowsCopied(jobId, ref, copied - reported);
        reported = copied;
        lastReport = Date.now();
      }
    });
    metrics.tablePhases.set(`${schema.database}.${schema.table}`, "streaming");
    await store.setTablePhase(jobId, ref, "streaming", { rowsCopied: copied, finishedAt: new Date() });
    log.info("table snapshot done", { table: `${schema.database}.${schema.table}`, rows: copied });
  }
}
