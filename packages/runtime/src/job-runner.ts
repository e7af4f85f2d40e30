// Runs one sync job in this worker: resolve its tables, settle the loads a
// previous run left behind, snapshot the tables if the job has no checkpoint
// yet, then follow the binlog from the checkpoint. Transient faults are retried with capped backoff
// (faults not known to pass, a bounded number of times); anything else stops the job in the failed
// state with a message for the user.
import { currentPosition, discoverTables, findPositionAfterGtid, findPositionAt, readTableSchema } from "@tide/cdc-mysql";
import { comparePositions, resolveTables, type BinlogPosition, type SinkTableSpec, type TableSchema } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { Backoff, sleep } from "./backoff";
import { classifyFault, RetryBudget } from "./fault-classifier";
import { CheckpointCoordinator } from "./checkpoint-coordinator";
import { adoptLoadedRanges, planDone, planHorizon, planTable, type TableSnapshotPlan } from "./chunked-snapshot";
import { JobMetrics } from "./job-metrics";
import type { JobStore, LoadedJob } from "./job-store";
import type { Logger } from "./logger";
import { copyFromSnapshot, copySnapshot, type SnapshotTable } from "./snapshot-copier";
import { handleDdl } from "./schema-evolution";
import { ChangeStream } from "./stream-applier";

export interface JobRunnerDeps {
  warehouse: Warehouse;
  store: JobStore;
  log: Logger;
  /** How often loads are precommitted, checkpointed and committed (default 1 s). */
  checkpointIntervalMs?: number;
  /** Rows per snapshot key range (default 50,000). */
  snapshotChunkRows?: number;
  /** The binlog reader thread's heap limit, MiB (default: ThreadedBinlogReader's). */
  readerHeapMb?: number;
  /** The warehouse file, named in the message when its disk is full. */
  warehousePath?: string;
  /**
   * Called (after the job is marked failed) when DuckDB invalidated the warehouse: nothing
   * in this process can write to it again, so the worker has to restart to reopen it.
   */
  onWarehouseLost?: (reason: string) => void;
}

const DEFAULT_CHECKPOINT_INTERVAL_MS = 500;
/** A run that streamed this long without a fault counts as recovered: the retry budget starts over. */
const HEALTHY_AFTER_MS = 60_000;

export class JobRunner {
  readonly metrics: JobMetrics;
  private readonly abort = new AbortController();
  private readonly backoff = new Backoff();
  private readonly budget = new RetryBudget();
  /** When the current run reached streaming (undefined before, and after a fault). */
  private streamingSince: number | undefined;
  private finished: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: JobRunnerDeps,
    readonly jobId: number,
    readonly jobName: string,
  ) {
    this.metrics = new JobMetrics(jobId);
    this.log = deps.log.child({ job: jobName });
  }

  /** Settles when the runner has stopped, on request or by a fatal fault. */
  get done(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  start(): void {
    this.finished ??= this.run();
  }

  /** Finishes the batch in hand, commits it, and returns. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    const { store } = this.deps;
    while (!this.abort.signal.aborted) {
      try {
        await this.runOnce();
        return;
      } catch (error) {
        if (this.abort.signal.aborted) return;
        const fault = classifyFault(error, { warehousePath: this.deps.warehousePath });
        // The budget is per stretch of trouble: a run that streamed for a while ended it.
        if (this.streamingSince !== undefined && Date.now() - this.streamingSince >= HEALTHY_AFTER_MS) {
          this.budget.reset();
          this.backoff.reset();
        }
        this.streamingSince = undefined;
        const verdict = this.budget.spend(fault);
        if (!verdict.retry) {
          this.log.error("job failed", { error: verdict.message });
          this.metrics.state = "failed";
          for (const key of this.metrics.tablePhases.keys()) this.metrics.tablePhases.set(key, "failed");
          // The tables first: whoever sees the job failed sees its tables failed too.
          await store.failTables(this.jobId).catch(() => undefined);
          await store.setState(this.jobId, "failed", verdict.message).catch(() => undefined);
          if (fault.warehouseLost) this.deps.onWarehouseLost?.(verdict.message);
          return;
        }
        const delay = this.backoff.nextDelayMs();
        const seconds = Math.ceil(delay / 1000);
        const note = verdict.limit
          ? `Retrying (attempt ${verdict.attempt} of ${verdict.limit}, next in ${seconds} s): ${fault.message}`
          : `Reconnecting (attempt ${this.backoff.attempts}, next in ${seconds} s): ${fault.message}`;
        this.log.warn(verdict.limit ? "unexpected fault" : "transient fault", { error: fault.message, attempt: this.backoff.attempts, delayMs: delay });
        this.metrics.state = "reconnecting";
        await store.setState(this.jobId, "reconnecting", note).catch(() => undefined);
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async runOnce(): Promise<void> {
    const { store, warehouse } = this.deps;
    const job = await store.load(this.jobId);
    if (!job) return;
    const tables = await this.resolve(job);
    // Tables a failed run marked failed wait again; the steps below set each one's phase.
    await store.clearFailedTables(job.id);
    const targets = new Map(tables.map((t) => [`${t.schema.database}.${t.schema.table}`, t.target]));
    const wanted = [...targets.keys()].sort();
    const sink = warehouse.twoPhaseSink();
    const chunkRows = job.spec.source["scan.incremental.snapshot.chunk.size"] ?? this.deps.snapshotChunkRows;

    // Settle what a previous run left half-done before reading anything new.
    let checkpoint = await CheckpointCoordinator.recover(job.id, sink, store);
    let freshPlan = false;
    let streamingTables = tables;
    let joiningTables: SnapshotTable[] = [];
    if (checkpoint && checkpoint.tables.length > 0) {
      // Tables added since the checkpoint join beside the stream; removed ones are just not followed.
      const known = new Set(checkpoint.tables);
      streamingTables = tables.filter((t) => known.has(keyOf(t)));
      joiningTables = tables.filter((t) => !known.has(keyOf(t)));
      for (const t of streamingTables) {
        // The warehouse table has the shape of the checkpoint's time; binlog DDL after it evolves it.
        const recorded = await warehouse.recordedSpec(t.target.schema, t.target.table);
        if (recorded) t.target = { ...recorded, model: t.target.model, keyColumns: recorded.keyColumns };
        else await warehouse.ensureTable(t.target);
      }
    } else {
      const startAt = await this.startPosition(job);
      if (startAt) {
        // Binlog-only modes: the tables start empty and fill from the chosen position.
        for (const t of tables) await warehouse.ensureTable(t.target);
        checkpoint = { seq: (checkpoint?.seq ?? 0) + 1, labels: [], tables: wanted, position: startAt };
        await store.saveCheckpoint(job.id, startAt, { seq: checkpoint.seq, labels: [], tables: wanted });
      } else if (job.spec.source["scan.startup.mode"] === "snapshot") {
        // Snapshot only: one consistent copy, no binlog to merge.
        this.metrics.state = "snapshotting";
        await store.setState(job.id, "snapshotting", null);
        const position = await copySnapshot({
          jobId: job.id,
          source: job.source,
          tables,
          warehouse,
          store,
          metrics: this.metrics,
          log: this.log,
          signal: this.abort.signal,
        });
        if (this.abort.signal.aborted) return;
        checkpoint = { seq: (checkpoint?.seq ?? 0) + 1, labels: [], tables: wanted, position };
        await store.saveCheckpoint(job.id, position, { seq: checkpoint.seq, labels: [], tables: wanted });
      } else {
        // Initial: a chunked snapshot of every table, merged with the binlog from here on.
        this.metrics.state = "snapshotting";
        await store.setState(job.id, "snapshotting", null);
        const position = await currentPosition(job.source);
        const snapshots: Record<string, TableSnapshotPlan> = {};
        for (const t of tables) {
          await warehouse.dropTable(t.target.schema, t.target.table);
          await warehouse.ensureTable(t.target);
          snapshots[keyOf(t)] = await planTable(job.source, t.schema, t.target.keyColumns, chunkRows);
          this.metrics.tablePhases.set(keyOf(t), "snapshotting");
          await store.setTablePhase(job.id, t.schema, "snapshotting", { rowsCopied: 0, startedAt: new Date() });
        }
        checkpoint = { seq: (checkpoint?.seq ?? 0) + 1, labels: [], tables: wanted, position, snapshots };
        await store.saveCheckpoint(job.id, position, { seq: checkpoint.seq, labels: [], tables: wanted, snapshots });
        freshPlan = true;
        this.log.info("chunked snapshot planned", { position, chunks: Object.fromEntries(Object.entries(snapshots).map(([k, p]) => [k, p.chunks.length])) });
      }
    }
    if (job.spec.source["scan.startup.mode"] === "snapshot") {
      // Snapshot-only jobs are done once their copy is checkpointed.
      this.metrics.state = "finished";
      await store.finish(job.id);
      return;
    }
    if (this.abort.signal.aborted) return;

    // Chunked snapshots still in progress, resumed where the checkpoint left them.
    // A plan stays in force until the stream passes its newest read (see ChangeStream.snapshotProgress).
    const resumeAt = checkpoint.position;
    const pending = new Map(
      Object.entries(checkpoint.snapshots ?? {}).filter(([, plan]) => {
        const horizon = planHorizon(plan);
        return !planDone(plan) || (horizon !== undefined && comparePositions(horizon, resumeAt) > 0);
      }),
    );
    // A plan that is not the one just made comes from a checkpoint: ranges loaded after it are known to the warehouse.
    const unread = new Set([...pending].filter(([, plan]) => !planDone(plan)).map(([key]) => key));
    if (!freshPlan) {
      const adopted = await adoptLoadedRanges(warehouse, pending.values());
      if (adopted > 0) this.log.info("key ranges loaded after the last checkpoint are kept", { ranges: adopted });
      // A plan with no range read has had every change of its table skipped: its table holds nothing
      // (a snapshot that started over after a schema change may have left rows of its earlier reads).
      for (const t of streamingTables) {
        const plan = pending.get(keyOf(t));
        if (plan && plan.chunks.every((c) => c.readAt === undefined)) await warehouse.emptyTable(t.target);
      }
    }
    const inForce = new Set(pending.values());
    const finishedPlans = Object.values(checkpoint.snapshots ?? {}).filter((plan) => plan.id && !inForce.has(plan));
    await warehouse.forgetLoadedRanges(finishedPlans.map((plan) => plan.id!));
    const coordinator = new CheckpointCoordinator(
      job.id,
      sink,
      store,
      streamingTables.map(keyOf),
      checkpoint,
      this.deps.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
    );
    const stream: ChangeStream = new ChangeStream({
      serverId: job.serverId,
      source: job.source,
      targets: new Map(streamingTables.map((t) => [keyOf(t), t.target])),
      from: checkpoint.position,
      startAfter: checkpoint.startAfter,
      xaReplayFrom: checkpoint.xaReplayFrom,
      coordinator,
      metrics: this.metrics,
      log: this.log,
      signal: this.abort.signal,
      onStreaming: async () => {
        // While faults not known to pass are being retried, their delays keep growing: the budget spans time.
        if (this.budget.unknownAttempts === 0) this.backoff.reset();
        this.streamingSince = Date.now();
        this.metrics.snapshotProgress = () => stream.snapshotCounts();
        // The tables first, so a job shown streaming never has a table still shown failed.
        for (const t of streamingTables) {
          const plan = pending.get(keyOf(t));
          const phase = plan && !planDone(plan) ? "snapshotting" : "streaming";
          this.metrics.tablePhases.set(keyOf(t), phase);
          // Both are written: a table resumed mid-snapshot after a failure was left pending.
          // A plan whose last ranges were loaded after its checkpoint is done without another load.
          await store.setTablePhase(job.id, t.schema, phase, unread.has(keyOf(t)) && phase === "streaming" ? { finishedAt: new Date() } : undefined);
        }
        const snapshotting = stream.snapshotting();
        this.metrics.state = snapshotting ? "snapshotting" : "streaming";
        await store.setState(job.id, snapshotting ? "snapshotting" : "streaming", null);
        for (const t of joiningTables) this.join(stream, t);
      },
      snapshots: new Map(streamingTables.filter((t) => pending.has(keyOf(t))).map((t) => [keyOf(t), { schema: t.schema, plan: pending.get(keyOf(t))! }])),
      snapshotTable: async (key, keyColumns) => {
        const table = [...tables, ...this.joinable.values()].find((t) => keyOf(t) === key);
        if (!table) throw new Error(`${key} is not a table of this job`);
        const schema = await readTableSchema(job.source, table.schema.database, table.schema.table);
        if (!keyColumns) return { schema };
        return { schema, plan: await planTable(job.source, schema, keyColumns, chunkRows) };
      },
      onSnapshotRestart: async (key) => {
        const table = tables.find((t) => keyOf(t) === key);
        if (!table) return;
        this.metrics.tablePhases.set(key, "snapshotting");
        await store.setTablePhase(job.id, table.schema, "snapshotting", { rowsCopied: 0, startedAt: new Date() });
        this.metrics.state = "snapshotting";
        await store.setState(job.id, "snapshotting", null);
      },
      snapshotParallelism: job.spec.pipeline.parallelism,
      ...(this.deps.readerHeapMb ? { readerHeapMb: this.deps.readerHeapMb } : {}),
      warehouse,
      onSnapshotRows: (rows) => {
        this.metrics.snapshotRowsCopied += rows;
      },
      onChunkLoaded: async (key, rows, tableDone) => {
        const table = tables.find((t) => keyOf(t) === key);
        if (!table) return;
        await store.addRowsCopied(job.id, table.schema, rows);
        if (tableDone) {
          this.metrics.tablePhases.set(keyOf(table), "streaming");
          await store.setTablePhase(job.id, table.schema, "streaming", { finishedAt: new Date() });
          this.log.info("table snapshot done", { table: key });
          if (!stream.snapshotting()) {
            this.metrics.state = "streaming";
            await store.setState(job.id, "streaming", null);
          }
        }
      },
      onTick: () => this.followTableChanges(stream),
      onDdl: (event, targets) => handleDdl({ jobId: job.id, spec: job.spec, event, targets, warehouse, store, log: this.log }),
      copyJoined: (snapshot, requests) =>
        copyFromSnapshot(snapshot, {
          jobId: job.id,
          tables: requests.map((r) => this.joinable.get(r.key)!),
          warehouse,
          store,
          metrics: this.metrics,
          log: this.log,
          signal: this.abort.signal,
        }),
    });
    await stream.run();
  }

  /** Picks up tables added to the job (or created in the source and matching it) and drops removed ones. */
  private async followTableChanges(stream: ChangeStream): Promise<void> {
    const job = await this.deps.store.load(this.jobId);
    if (!job) return;
    const tables = await this.resolve(job);
    const current = new Set(stream.tableKeys());
    const wanted = new Set(tables.map(keyOf));
    for (const t of tables) if (!current.has(keyOf(t))) this.join(stream, t);
    for (const key of current) {
      if (!wanted.has(key)) {
        this.log.info("table removed from the job; no longer followed", { table: key });
        stream.remove(key);
      }
    }
  }

  /** Tables waiting to join the stream, by `db.table`. */
  private readonly joinable = new Map<string, SnapshotTable>();

  /** Asks the stream to snapshot a table beside it; it becomes part of the job once copied. */
  private join(stream: ChangeStream, table: SnapshotTable): void {
    const key = keyOf(table);
    this.log.info("table joins the running job", { table: key });
    this.joinable.set(key, table);
    stream.requestJoin({ key, target: table.target });
  }

  /** Where a binlog-only startup mode begins; undefined for the modes that snapshot first. */
  private async startPosition(job: LoadedJob): Promise<BinlogPosition | undefined> {
    const source = job.spec.source;
    switch (source["scan.startup.mode"]) {
      case "latest-offset":
        return currentPosition(job.source);
      case "specific-offset": {
        const gtid = source["scan.startup.specific-offset.gtid-set"];
        if (gtid !== undefined) return findPositionAfterGtid(job.source, gtid);
        return { file: source["scan.startup.specific-offset.file"]!, pos: source["scan.startup.specific-offset.pos"]! };
      }
      case "timestamp":
        return findPositionAt(job.source, job.serverId, source["scan.startup.timestamp-millis"]!);
      default:
        return undefined;
    }
  }

  private async resolve(job: LoadedJob): Promise<SnapshotTable[]> {
    const discovered = await discoverTables(job.source);
    const { tables, problems } = resolveTables(job.spec, discovered);
    const problemList = Object.values(problems);
    if (problemList.length > 0) throw new JobConfigError(problemList.join("; "));
    await this.deps.store.syncTables(
      job.id,
      tables.map((t) => ({
        ...t,
        rowsEstimate: discovered.find((d) => d.database === t.database && d.table === t.table)?.rowsEstimate ?? 0,
      })),
    );
    return tables.map((t) => {
      const found = discovered.find((d) => d.database === t.database && d.table === t.table)!;
      const schema: TableSchema = { database: t.database, table: t.table, columns: found.columns, primaryKey: found.primaryKey };
      const [sinkSchema, sinkTable] = t.sinkTable.split(".") as [string, string];
      const target: SinkTableSpec = {
        schema: sinkSchema,
        table: sinkTable,
        columns: found.columns,
        model: t.model,
        keyColumns: t.keyColumns,
      };
      return { schema, target };
    });
  }
}

/** The job's spec no longer matches the source (a table lost its key, a table vanished). */
export class JobConfigError extends Error {}

function keyOf(table: SnapshotTable): string {
  return `${table.schema.database}.${table.schema.table}`;
}
