// Exactly once into the warehouse, in the manner of Flink's checkpoints with
// a two-phase-commit sink. During an interval every table's changes go into an
// open load; at the interval's end the loads are precommitted, the checkpoint
// (source position + labels) is saved in the metadata DB, and only then are the
// loads committed. On restart, the labels of the last saved checkpoint are
// committed again (a no-op for those already committed), every other lingering
// load of the job is aborted, and the source resumes from that checkpoint.
import { randomBytes } from "node:crypto";
import type { BinlogPosition, RowChange, SinkLoad, SinkTableSpec, TwoPhaseSink } from "@tide/contracts";
import type { TableSnapshotPlan } from "./chunked-snapshot";
import { crashPoint } from "./crash-points";
import type { JobStore } from "./job-store";

export interface CheckpointDetails {
  /** Increases by one per checkpoint of the job. */
  seq: number;
  /** Labels precommitted under this checkpoint; committed right after it was saved. */
  labels: string[];
  /** Source tables (`db.table`) the job follows: snapshot complete, or in progress (see snapshots). */
  tables: string[];
  /** Chunked snapshots still in progress, by source table: which key ranges are read, and at which position. */
  snapshots?: Record<string, TableSnapshotPlan>;
  /** Tables (`db.table`) whose changes count only after a position (a join's snapshot, or a replay guard). */
  startAfter?: Record<string, BinlogPosition>;
  /**
   * Where the binlog must be read from on resume when an XA transaction was prepared before
   * `position` and not yet committed: its rows precede its XA COMMIT. Only XA transactions are
   * taken from the stretch before `position`; everything else there was applied.
   */
  xaReplayFrom?: BinlogPosition;
}

export interface CompletedCheckpoint extends CheckpointDetails {
  position: BinlogPosition;
}

/** Finished labels are pruned every this many checkpoints, keeping the newest KEEP_FINISHED_LABELS (for diagnosis). */
const PRUNE_EVERY_CHECKPOINTS = 100;
const KEEP_FINISHED_LABELS = 1_000;

export function labelPrefix(jobId: number): string {
  return `job-${jobId}-cp-`;
}

export class CheckpointCoordinator {
  private readonly loads = new Map<string, SinkLoad>();
  /** Tables joining a running job: their loads stay open across checkpoints until their snapshot is done. */
  private readonly held = new Set<string>();
  /** Distinguishes this run's labels from those of a run that crashed at the same sequence number. */
  private readonly incarnation = randomBytes(3).toString("hex");
  private seq: number;
  private lastCheckpointAt = Date.now();
  private pendingRows = 0;
  private newestCommitMs: number | undefined;

  constructor(
    private readonly jobId: number,
    private readonly sink: TwoPhaseSink,
    private readonly store: JobStore,
    private tables: string[],
    from: CompletedCheckpoint,
    readonly intervalMs: number,
  ) {
    this.seq = from.seq + 1;
  }

  /**
   * Settles the loads a previous run left behind: commits those the last saved
   * checkpoint lists, aborts the rest. Returns that checkpoint (or undefined).
   */
  static async recover(jobId: number, sink: TwoPhaseSink, store: JobStore): Promise<CompletedCheckpoint | undefined> {
    const last = await store.lastCheckpoint(jobId);
    for (const label of last?.labels ?? []) await sink.commit(label);
    const keep = new Set(last?.labels ?? []);
    for (const label of await sink.recover(labelPrefix(jobId))) {
      if (!keep.has(label)) await sink.abort(label);
    }
    return last;
  }

  /** Supplies the snapshot progress each checkpoint records. */
  snapshotProgress: () => Record<string, TableSnapshotPlan> | undefined = () => undefined;
  /** Supplies the per-table start positions each checkpoint records. */
  startPositions: () => Record<string, BinlogPosition> | undefined = () => undefined;
  /** Supplies CheckpointDetails.xaReplayFrom for a checkpoint at the given position. */
  xaReplayFrom: (position: BinlogPosition) => BinlogPosition | undefined = () => undefined;

  /** Source tables (`db.table`) the next checkpoint records as snapshotted and streaming. */
  setTables(tables: string[]): void {
    this.tables = [...tables].sort();
  }

  /** Keeps a warehouse table's load out of checkpoints until release (its snapshot is still being copied). */
  hold(warehouseTable: string): void {
    this.held.add(warehouseTable);
  }

  release(warehouseTable: string): void {
    this.held.delete(warehouseTable);
  }

  /** Rows written since the last checkpoint (invisible until it completes). */
  get pending(): number {
    return this.pendingRows;
  }

  async write(target: SinkTableSpec, changes: RowChange[], newestCommitMs: number): Promise<void> {
    const key = `${target.schema}.${target.table}`;
    let load = this.loads.get(key);
    if (!load) {
      load = await this.sink.begin(`${labelPrefix(this.jobId)}${this.seq}-${this.incarnation}-${key}`, target);
      this.loads.set(key, load);
    }
    await load.write(changes);
    this.pendingRows += changes.length;
    this.newestCommitMs = newestCommitMs;
    crashPoint("after-write");
  }

  due(now = Date.now()): boolean {
    return now - this.lastCheckpointAt >= this.intervalMs;
  }

  /** Precommit, save the checkpoint, commit. Returns what became visible. */
  async checkpoint(position: BinlogPosition): Promise<{ rows: number; newestCommitMs: number | undefined }> {
    // Decided once: a join may finish (release) while this checkpoint awaits.
    const included = [...this.loads.entries()].filter(([key]) => !this.held.has(key));
    const loads = included.map(([, load]) => load);
    for (const load of loads) await load.precommit();
    crashPoint("after-precommit");
    const snapshots = this.snapshotProgress();
    const startAfter = this.startPositions();
    const xaReplayFrom = this.xaReplayFrom(position);
    const details: CheckpointDetails = {
      ...(xaReplayFrom ? { xaReplayFrom } : {}),
      ...(startAfter && Object.keys(startAfter).length > 0 ? { startAfter: { ...startAfter } } : {}),
      seq: this.seq,
      labels: loads.map((l) => l.label),
      tables: this.tables,
      ...(snapshots && Object.keys(snapshots).length > 0 ? { snapshots: JSON.parse(JSON.stringify(snapshots)) as Record<string, TableSnapshotPlan> } : {}),
    };
    await this.store.saveCheckpoint(this.jobId, position, details);
    crashPoint("after-checkpoint");
    for (const [i, load] of loads.entries()) {
      await this.sink.commit(load.label);
      if (i === 0 && loads.length > 1) crashPoint("mid-commit");
    }
    if (loads.length === 1) crashPoint("mid-commit");
    // The sink's label table would otherwise grow by a few rows a second for as long as the job runs.
    if (this.seq % PRUNE_EVERY_CHECKPOINTS === 0) await this.sink.pruneFinished?.(labelPrefix(this.jobId), KEEP_FINISHED_LABELS);
    const visible = { rows: this.pendingRows, newestCommitMs: this.newestCommitMs };
    for (const [key] of included) this.loads.delete(key);
    this.pendingRows = 0;
    this.seq += 1;
    this.lastCheckpointAt = Date.now();
    return visible;
  }
}
