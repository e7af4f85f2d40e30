// Follows the binlog from a committed offset and applies each batch of source
// transactions to the warehouse in one transaction together with the new
// offset; only then is the position checkpointed in the metadata DB.
import { BinlogReader, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { formatPosition, type BinlogPosition, type RowChange, type SinkTableSpec } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { offsetKey, type JobOffset } from "./job-offset";
import type { JobMetrics } from "./job-metrics";
import type { JobStore } from "./job-store";
import type { Logger } from "./logger";

/** Changes applied per warehouse transaction, at most (whole source transactions are never split). */
const MAX_BATCH_ROWS = 20_000;
/** How long a poll waits for the first transaction: bounds the extra latency of an idle stream. */
const POLL_WAIT_MS = 100;
const CHECKPOINT_EVERY_MS = 1_000;

export async function streamChanges(args: {
  jobId: number;
  serverId: number;
  source: SourceConnectionConfig;
  /** `db.table` → where its changes go. */
  targets: Map<string, SinkTableSpec>;
  offset: JobOffset;
  warehouse: Warehouse;
  store: JobStore;
  metrics: JobMetrics;
  log: Logger;
  signal: AbortSignal;
  /** Called once the reader is connected and streaming. */
  onStreaming: () => Promise<void>;
}): Promise<void> {
  const { jobId, targets, warehouse, store, metrics, log, signal } = args;
  const reader = new BinlogReader({
    source: args.source,
    serverId: args.serverId,
    startAt: args.offset.position,
    includeTable: (database, table) => targets.has(`${database}.${table}`),
  });
  await reader.start();
  let position: BinlogPosition = args.offset.position;
  let checkpointed = formatPosition(position);
  let lastCheckpointAt = 0;
  try {
    metrics.state = "streaming";
    metrics.position = formatPosition(position);
    await args.onStreaming();
    while (!signal.aborted) {
      const transactions = await reader.poll(MAX_BATCH_ROWS, POLL_WAIT_MS);
      if (transactions.length > 0) {
        const byTable = new Map<string, { target: SinkTableSpec; changes: RowChange[] }>();
        let rows = 0;
        for (const tx of transactions) {
          for (const t of tx.tables) {
            const key = `${t.database}.${t.table}`;
            const target = targets.get(key);
            if (!target) continue;
            let entry = byTable.get(key);
            if (!entry) byTable.set(key, (entry = { target, changes: [] }));
            for (const change of t.changes) entry.changes.push(change);
            rows += t.changes.length;
          }
        }
        const last = transactions[transactions.length - 1]!;
        position = last.position;
        const offset: JobOffset = { ...args.offset, position };
        const started = performance.now();
        await warehouse.applyChanges({ jobId: offsetKey(jobId), offset, tables: [...byTable.values()] });
        const seconds = (performance.now() - started) / 1000;
        metrics.recordApply(rows, last.commitTimeMs, rows < MAX_BATCH_ROWS, seconds);
        metrics.position = formatPosition(position);
      } else {
        metrics.caughtUp = true;
      }
      const now = Date.now();
      if (now - lastCheckpointAt >= CHECKPOINT_EVERY_MS && formatPosition(position) !== checkpointed) {
        await store.saveCheckpoint(jobId, position);
        checkpointed = formatPosition(position);
        lastCheckpointAt = now;
      }
    }
    if (formatPosition(position) !== checkpointed) await store.saveCheckpoint(jobId, position);
  } finally {
    await reader.stop().catch((error: unknown) => log.warn("binlog reader did not stop cleanly", { error }));
  }
}
