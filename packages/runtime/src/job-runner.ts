// Runs one sync job in this worker: resolve its tables, snapshot them if the
// warehouse holds no offset for the job yet, then follow the binlog from the
// offset. Transient faults are retried with capped backoff; anything else
// stops the job in the failed state with a message for the user.
import { discoverTables } from "@tide/cdc-mysql";
import { resolveTables, type SinkTableSpec, type TableSchema } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { Backoff, sleep } from "./backoff";
import { classifyFault } from "./fault-classifier";
import { isJobOffset, offsetKey, type JobOffset } from "./job-offset";
import { JobMetrics } from "./job-metrics";
import type { JobStore, LoadedJob } from "./job-store";
import type { Logger } from "./logger";
import { copySnapshot, type SnapshotTable } from "./snapshot-copier";
import { streamChanges } from "./stream-applier";

export interface JobRunnerDeps {
  warehouse: Warehouse;
  store: JobStore;
  log: Logger;
}

export class JobRunner {
  readonly metrics: JobMetrics;
  private readonly abort = new AbortController();
  private readonly backoff = new Backoff();
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
        const fault = classifyFault(error);
        if (!fault.transient) {
          this.log.error("job failed", { error: fault.message });
          this.metrics.state = "failed";
          await store.setState(this.jobId, "failed", fault.message).catch(() => undefined);
          return;
        }
        const delay = this.backoff.nextDelayMs();
        const note = `Reconnecting (attempt ${this.backoff.attempts}, next in ${Math.ceil(delay / 1000)} s): ${fault.message}`;
        this.log.warn("transient fault", { error: fault.message, attempt: this.backoff.attempts, delayMs: delay });
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
    const targets = new Map(tables.map((t) => [`${t.schema.database}.${t.schema.table}`, t.target]));

    const stored = await warehouse.readOffset(offsetKey(job.id));
    let offset: JobOffset;
    const wanted = [...targets.keys()].sort();
    if (isJobOffset(stored) && sameTables(stored.tables, wanted)) {
      offset = stored;
      for (const t of tables) await warehouse.ensureTable(t.target);
    } else {
      if (isJobOffset(stored)) {
        this.log.warn("table selection changed since the last snapshot; snapshotting again", { before: stored.tables, after: wanted });
      }
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
      offset = { version: 1, position, tables: wanted };
      // The snapshot's rows are committed; this makes them count as the job's state.
      await warehouse.applyChanges({ jobId: offsetKey(job.id), offset, tables: [] });
      await store.saveCheckpoint(job.id, position);
    }
    if (this.abort.signal.aborted) return;

    await streamChanges({
      jobId: job.id,
      serverId: job.serverId,
      source: job.source,
      targets,
      offset,
      warehouse,
      store,
      metrics: this.metrics,
      log: this.log,
      signal: this.abort.signal,
      onStreaming: async () => {
        this.backoff.reset();
        await store.setState(job.id, "streaming", null);
        for (const t of tables) await store.setTablePhase(job.id, t.schema, "streaming");
      },
    });
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

function sameTables(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === b[i]);
}
