// Follows the binlog from a checkpoint and loads each table's changes through
// the checkpoint coordinator: written as they arrive, visible at the next
// checkpoint (default every second), exactly once.
import { BinlogReader, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { formatPosition, type BinlogPosition, type RowChange, type SinkTableSpec } from "@tide/contracts";
import type { CheckpointCoordinator } from "./checkpoint-coordinator";
import type { JobMetrics } from "./job-metrics";
import type { Logger } from "./logger";

/** Changes taken per poll, at most (whole source transactions are never split). */
const MAX_BATCH_ROWS = 20_000;
/** How long a poll waits for the first transaction: bounds the extra latency of an idle stream. */
const POLL_WAIT_MS = 50;

export async function streamChanges(args: {
  serverId: number;
  source: SourceConnectionConfig;
  /** `db.table` → where its changes go. */
  targets: Map<string, SinkTableSpec>;
  from: BinlogPosition;
  coordinator: CheckpointCoordinator;
  metrics: JobMetrics;
  log: Logger;
  signal: AbortSignal;
  /** Called once the reader is connected and streaming. */
  onStreaming: () => Promise<void>;
}): Promise<void> {
  const { targets, coordinator, metrics, log, signal } = args;
  const reader = new BinlogReader({
    source: args.source,
    serverId: args.serverId,
    startAt: args.from,
    includeTable: (database, table) => targets.has(`${database}.${table}`),
  });
  await reader.start();
  let position: BinlogPosition = args.from;
  let checkpointed = formatPosition(position);
  // Inside a transaction handed out in pieces: no checkpoint until its last piece.
  let midTransaction = false;
  const checkpoint = async () => {
    const started = performance.now();
    const visible = await coordinator.checkpoint(position);
    checkpointed = formatPosition(position);
    if (visible.newestCommitMs !== undefined) metrics.recordApply(visible.rows, visible.newestCommitMs, true, (performance.now() - started) / 1000);
    metrics.position = checkpointed;
  };
  try {
    metrics.state = "streaming";
    metrics.position = checkpointed;
    await args.onStreaming();
    while (!signal.aborted) {
      const transactions = await reader.poll(MAX_BATCH_ROWS, POLL_WAIT_MS);
      metrics.sourceContactMs = reader.lastContactMs;
      metrics.fetchLagMs = reader.fetchLagMs;
      metrics.binlogBytesTotal = reader.bytesReceived;
      if (transactions.length > 0) {
        const byTable = new Map<string, { target: SinkTableSpec; changes: RowChange[] }>();
        for (const tx of transactions) {
          for (const t of tx.tables) {
            const key = `${t.database}.${t.table}`;
            const target = targets.get(key);
            if (!target) continue;
            let entry = byTable.get(key);
            if (!entry) byTable.set(key, (entry = { target, changes: [] }));
            for (const change of t.changes) entry.changes.push(change);
          }
        }
        const last = transactions[transactions.length - 1]!;
        for (const { target, changes } of byTable.values()) await coordinator.write(target, changes, last.commitTimeMs);
        position = last.position;
        midTransaction = last.partial === true;
        metrics.caughtUp = false;
      } else {
        metrics.caughtUp = coordinator.pending === 0;
      }
      if (!midTransaction && coordinator.due() && (coordinator.pending > 0 || formatPosition(position) !== checkpointed)) await checkpoint();
    }
    // A clean stop completes the interval in hand, so nothing is redone on resume
    // (unless it stopped inside a huge transaction: that is read again).
    if (!midTransaction && (coordinator.pending > 0 || formatPosition(position) !== checkpointed)) await checkpoint();
  } finally {
    await reader.stop().catch((error: unknown) => log.warn("binlog reader did not stop cleanly", { error }));
  }
}
