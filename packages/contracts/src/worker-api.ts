// The worker's internal HTTP API on loopback, used by the web app's tRPC routers.
// Every /internal/* request carries `authorization: Bearer <TIDE_INTERNAL_SECRET>`.
import { z } from "zod";

export const QueryRequest = z.object({
  sql: z.string().min(1, "Write a query first").max(100_000),
  /** Rows returned at most; the rest are counted but not sent. */
  maxRows: z.number().int().min(1).max(10_000).default(1_000),
});
export type QueryRequest = z.infer<typeof QueryRequest>;

export interface QueryColumn {
  name: string;
  type: string;
}

/** Values are JSON-safe: BIGINT/DECIMAL/HUGEINT as strings, dates and timestamps as ISO-like strings, BLOB as base64-free hex `\x..`. */
export interface QueryResult {
  columns: QueryColumn[];
  rows: unknown[][];
  /** Rows the query produced (may exceed rows.length when truncated). */
  rowCount: number;
  truncated: boolean;
  elapsedMs: number;
}

export interface WarehouseTableInfo {
  schema: string;
  table: string;
  rowCount: number;
  columns: QueryColumn[];
}

/** A live sample of one job, taken by the worker; the chart gets one at least every 2 s. */
export interface JobMetricsSample {
  jobId: number;
  at: number;
  state: string;
  /** Source commit to warehouse commit of the newest applied transaction, or 0 when caught up and idle. */
  lagMs: number;
  /** Receive time minus source timestamp of the newest row event (Flink CDC's fetch delay). */
  fetchLagMs?: number;
  /** Rows applied to the warehouse per second over the last sample interval. */
  rowsPerSec: number;
  eventsTotal: number;
  snapshotRowsCopied: number;
  /** Binlog bytes received per second over the last sample interval. */
  binlogBytesPerSec?: number;
  /** Snapshot key ranges loaded by this run of the job. */
  snapshotChunksDone?: number;
  /** Key ranges of the snapshots in progress, read or not (0 when no table is snapshotting). */
  snapshotChunksTotal?: number;
  /** Tables of the job whose snapshot is complete, and all the job's tables. */
  snapshotTablesDone?: number;
  snapshotTablesTotal?: number;
  /** Snapshot rows and source bytes read per second over the last sample interval. */
  snapshotRowsPerSec?: number;
  snapshotBytesPerSec?: number;
  /** Estimated seconds until every snapshot is read, at the recent rate; absent when unknown or done. */
  snapshotEtaSeconds?: number;
  position?: string;
}

export interface WorkerHealth {
  ok: boolean;
  pid: number;
  startedAt: number;
  runningJobs: number[];
}
