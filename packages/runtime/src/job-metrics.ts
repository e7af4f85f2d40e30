// Live metrics of the jobs this worker runs: a sample per job every second, kept
// for ten minutes, served to the console's chart and rendered for Prometheus.
import type { JobMetricsSample } from "@tide/contracts";

const HISTORY_MS = 10 * 60_000;

export class JobMetrics {
  state = "pending";
  eventsTotal = 0;
  rowsAppliedTotal = 0;
  snapshotRowsCopied = 0;
  /** Source commit time of the newest applied transaction (ms). */
  lastAppliedCommitMs: number | undefined;
  /** When the newest transaction was applied (ms). */
  lastAppliedAtMs: number | undefined;
  /** True when the reader had nothing more to give at the last apply. */
  caughtUp = false;
  position: string | undefined;
  /** When the source last sent anything (event or heartbeat), ms. */
  sourceContactMs: number | undefined;
  /** Receive time minus source timestamp of the newest row event (Flink CDC's fetch delay). */
  fetchLagMs = 0;
  binlogBytesTotal = 0;
  /** Snapshot key ranges loaded, and the time spent on them in all and writing into the warehouse. */
  snapshotChunksDone = 0;
  snapshotChunkMs = 0;
  snapshotWriteMs = 0;
  snapshotBytesRead = 0;
  /** Each table's phase (`db.table` → pending, snapshotting, streaming, failed), as last set by the runner. */
  readonly tablePhases = new Map<string, string>();
  /** Where the snapshot stands (set by the running stream): tables and key ranges read and planned. */
  snapshotProgress: (() => { tablesDone: number; tablesTotal: number; chunksDone: number; chunksTotal: number }) | undefined;
  commitsTotal = 0;
  applySecondsTotal = 0;
  private history: JobMetricsSample[] = [];
  private lastSampleRows = 0;
  private lastSampleBytes = 0;
  private lastSampleSnapshotRows = 0;
  private lastSampleSnapshotBytes = 0;
  /** When this run's snapshot loading was first seen, and the key ranges loaded by then (for the ETA). */
  private snapshotSeenAt: { ms: number; chunks: number } | undefined;
  private lastSampleAt = Date.now();

  constructor(readonly jobId: number) {}

  recordApply(rows: number, newestCommitMs: number, caughtUp: boolean, seconds: number): void {
    this.rowsAppliedTotal += rows;
    this.eventsTotal += rows;
    this.commitsTotal += 1;
    this.applySecondsTotal += seconds;
    this.lastAppliedCommitMs = newestCommitMs;
    this.lastAppliedAtMs = Date.now();
    this.caughtUp = caughtUp;
  }

  /**
   * Lag: how far the warehouse trails the source. While changes are pending it
   * grows with the age of the newest applied commit; when the reader is caught up
   * and idle there is nothing to trail. Binlog timestamps have 1 s resolution,
   * so a single sample can read up to ~1 s high.
   */
  lagMs(now = Date.now()): number {
    if (this.caughtUp) {
      // Nothing pending: the warehouse is as fresh as the last word from the source. Heartbeats
      // arrive every second on an idle connection, so a silent one shows up as growing lag.
      const silence = this.sourceContactMs === undefined ? 0 : now - this.sourceContactMs;
      return silence > 3_000 ? silence : 0;
    }
    if (this.lastAppliedCommitMs === undefined) return 0;
    return Math.max(0, now - this.lastAppliedCommitMs);
  }

  sample(now = Date.now()): JobMetricsSample {
    const seconds = Math.max(0.001, (now - this.lastSampleAt) / 1000);
    const rowsPerSec = (this.rowsAppliedTotal + this.snapshotRowsCopied - this.lastSampleRows) / seconds;
    this.lastSampleRows = this.rowsAppliedTotal + this.snapshotRowsCopied;
    const bytesPerSec = (this.binlogBytesTotal - this.lastSampleBytes) / seconds;
    this.lastSampleBytes = this.binlogBytesTotal;
    const snapshotRowsPerSec = (this.snapshotRowsCopied - this.lastSampleSnapshotRows) / seconds;
    this.lastSampleSnapshotRows = this.snapshotRowsCopied;
    const snapshotBytesPerSec = (this.snapshotBytesRead - this.lastSampleSnapshotBytes) / seconds;
    this.lastSampleSnapshotBytes = this.snapshotBytesRead;
    const progress = this.snapshotProgress?.();
    const chunksLeft = progress ? progress.chunksTotal - progress.chunksDone : 0;
    // The time left at the average pace of this run's loading so far (steadier than the last second's).
    if (chunksLeft > 0) this.snapshotSeenAt ??= { ms: now, chunks: this.snapshotChunksDone };
    else this.snapshotSeenAt = undefined;
    const loaded = this.snapshotSeenAt ? this.snapshotChunksDone - this.snapshotSeenAt.chunks : 0;
    const elapsed = this.snapshotSeenAt ? (now - this.snapshotSeenAt.ms) / 1000 : 0;
    const etaSeconds = loaded > 0 && elapsed >= 1 ? Math.round(chunksLeft / (loaded / elapsed)) : undefined;
    this.lastSampleAt = now;
    const s: JobMetricsSample = {
      jobId: this.jobId,
      at: now,
      state: this.state,
      lagMs: Math.round(this.lagMs(now)),
      fetchLagMs: Math.round(this.fetchLagMs),
      rowsPerSec: Math.round(rowsPerSec),
      binlogBytesPerSec: Math.max(0, Math.round(bytesPerSec)),
      snapshotChunksDone: progress?.chunksDone ?? 0,
      snapshotChunksTotal: progress?.chunksTotal ?? 0,
      snapshotTablesDone: progress?.tablesDone ?? 0,
      snapshotTablesTotal: progress?.tablesTotal ?? 0,
      snapshotRowsPerSec: Math.max(0, Math.round(snapshotRowsPerSec)),
      snapshotBytesPerSec: Math.max(0, Math.round(snapshotBytesPerSec)),
      ...(etaSeconds !== undefined ? { snapshotEtaSeconds: etaSeconds } : {}),
      eventsTotal: this.eventsTotal,
      snapshotRowsCopied: this.snapshotRowsCopied,
      position: this.position,
    };
    this.history.push(s);
    while (this.history.length > 0 && this.history[0]!.at < now - HISTORY_MS) this.history.shift();
    return s;
  }

  latest(): JobMetricsSample | undefined {
    return this.history.at(-1);
  }

  since(ms: number): JobMetricsSample[] {
    return this.history.filter((s) => s.at > ms);
  }
}

/** Prometheus text exposition of every job's counters and gauges. */
export function renderPrometheus(jobs: { name: string; metrics: JobMetrics }[], process: { startedAtMs: number }): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, values: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of values) lines.push(`${name}${labels} ${v}`);
  };
  const escape = (value: string) => value.replace(/["\\\n]/g, "_");
  const label = (job: string) => `{job="${escape(job)}"}`;
  const labels = (job: string, extra: Record<string, string>) =>
    `{job="${escape(job)}"${Object.entries(extra).map(([k, v]) => `,${k}="${escape(v)}"`).join("")}}`;
  metric("tide_worker_start_time_seconds", "gauge", "Start time of the worker process.", [["", process.startedAtMs / 1000]]);
  metric("tide_job_lag_seconds", "gauge", "Source commit to visible in the warehouse (emit delay); 0 when caught up.", jobs.map((j) => [label(j.name), j.metrics.lagMs() / 1000]));
  metric("tide_job_rows_applied_total", "counter", "Row changes applied to the warehouse from the binlog.", jobs.map((j) => [label(j.name), j.metrics.rowsAppliedTotal]));
  metric("tide_job_snapshot_rows_total", "counter", "Rows copied by the snapshot.", jobs.map((j) => [label(j.name), j.metrics.snapshotRowsCopied]));
  metric("tide_job_commits_total", "counter", "Warehouse transactions committed.", jobs.map((j) => [label(j.name), j.metrics.commitsTotal]));
  metric("tide_job_apply_seconds_total", "counter", "Time spent applying changes in the warehouse.", jobs.map((j) => [label(j.name), j.metrics.applySecondsTotal]));
  metric("tide_job_fetch_lag_seconds", "gauge", "Receive time minus source timestamp of the newest row event (fetch delay).", jobs.map((j) => [label(j.name), j.metrics.fetchLagMs / 1000]));
  metric("tide_job_binlog_bytes_total", "counter", "Binlog bytes received from the source.", jobs.map((j) => [label(j.name), j.metrics.binlogBytesTotal]));
  metric("tide_job_snapshot_chunks_loaded_total", "counter", "Snapshot key ranges loaded by this worker.", jobs.map((j) => [label(j.name), j.metrics.snapshotChunksDone]));
  metric("tide_job_snapshot_seconds_total", "counter", "Time spent loading snapshot key ranges.", jobs.map((j) => [label(j.name), j.metrics.snapshotChunkMs / 1000]));
  metric("tide_job_snapshot_write_seconds_total", "counter", "Part of that time spent writing into the warehouse.", jobs.map((j) => [label(j.name), j.metrics.snapshotWriteMs / 1000]));
  metric("tide_job_snapshot_bytes_total", "counter", "Source bytes read by the snapshot.", jobs.map((j) => [label(j.name), j.metrics.snapshotBytesRead]));
  const progress = jobs.map((j) => ({ name: j.name, p: j.metrics.snapshotProgress?.(), eta: j.metrics.latest()?.snapshotEtaSeconds }));
  metric("tide_job_snapshot_tables", "gauge", "Tables of the job by snapshot state (done: read; remaining: still being read).", progress.flatMap(({ name, p }) => [
    [labels(name, { state: "done" }), p?.tablesDone ?? 0],
    [labels(name, { state: "remaining" }), p ? p.tablesTotal - p.tablesDone : 0],
  ] as [string, number][]));
  metric("tide_job_snapshot_chunks", "gauge", "Key ranges of the snapshots in progress by state.", progress.flatMap(({ name, p }) => [
    [labels(name, { state: "done" }), p?.chunksDone ?? 0],
    [labels(name, { state: "remaining" }), p ? p.chunksTotal - p.chunksDone : 0],
  ] as [string, number][]));
  metric("tide_job_snapshot_eta_seconds", "gauge", "Estimated time until the snapshot is read (absent when unknown).", progress.filter((x) => x.eta !== undefined).map(({ name, eta }) => [label(name), eta!]));
  metric("tide_job_table_phase", "gauge", "1 for each table's current phase (pending, snapshotting, streaming, failed).", jobs.flatMap((j) =>
    [...j.metrics.tablePhases].map(([table, phase]) => [labels(j.name, { table, phase }), 1] as [string, number])));
  metric("tide_job_streaming", "gauge", "1 while the job follows the binlog.", jobs.map((j) => [label(j.name), j.metrics.state === "streaming" ? 1 : 0]));
  return `${lines.join("\n")}\n`;
}
