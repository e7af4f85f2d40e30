// Drives this worker toward the desired state in the metadata DB: starts the
// jobs that should run, stops the ones paused or stopped, and after a restart
// of the worker picks every running job up again from its last checkpoint.
import type { PrismaClient } from "@tide/db";
import { DESIRED_STATES, type DesiredState } from "@tide/contracts";
import type { Warehouse } from "@tide/warehouse";
import { JobRunner } from "./job-runner";
import { verifyTable } from "./verifier";
import type { JobStore } from "./job-store";
import type { Logger } from "./logger";

const TICK_MS = 1_000;
const PERSIST_METRICS_EVERY_MS = 5_000;

export interface ReconcilerDeps {
  prisma: PrismaClient;
  warehouse: Warehouse;
  store: JobStore;
  log: Logger;
  checkpointIntervalMs?: number;
  snapshotChunkRows?: number;
  readerHeapMb?: number;
  /** The warehouse file (named when its disk is full). */
  warehousePath?: string;
  /** DuckDB invalidated the warehouse: the process must restart to reopen it (see JobRunnerDeps). */
  onWarehouseLost?: (reason: string) => void;
}

export class Reconciler {
  private readonly runners = new Map<number, JobRunner>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private lastPersist = 0;
  private verifying: Promise<void> | undefined;
  private verificationsRequeued = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.nudge(), TICK_MS);
    this.nudge();
  }

  /** Reconcile now (after a desired state changed); coalesces overlapping calls. */
  nudge(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error: unknown) => this.deps.log.warn("reconcile failed; retrying", { error }))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  runningJobIds(): number[] {
    return [...this.runners.keys()];
  }

  runner(jobId: number): JobRunner | undefined {
    return this.runners.get(jobId);
  }

  allRunners(): JobRunner[] {
    return [...this.runners.values()];
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
  }

  private async tick(): Promise<void> {
    const { prisma, store } = this.deps;
    const jobs = await prisma.syncJob.findMany({ select: { id: true, name: true, desiredState: true, actualState: true } });
    const known = new Set(jobs.map((j) => j.id));

    for (const job of jobs) {
      const desired = asDesired(job.desiredState);
      const runner = this.runners.get(job.id);
      const shouldRun = desired === "running" && job.actualState !== "failed";
      if (shouldRun && !runner) {
        this.startRunner(job.id, job.name);
      } else if (!shouldRun && runner) {
        this.runners.delete(job.id);
        await runner.stop();
        if (desired !== "running") await store.setState(job.id, desired);
      } else if (!shouldRun && !runner && desired !== "running" && job.actualState !== desired && job.actualState !== "finished") {
        await store.setState(job.id, desired);
      }
    }
    for (const [id, runner] of this.runners) {
      if (!known.has(id)) {
        this.runners.delete(id);
        await runner.stop();
      }
    }
    this.sampleMetrics();
    await this.startNextVerification();
  }

  /** Verifications run one at a time, in the order they were asked for. */
  private async startNextVerification(): Promise<void> {
    const { prisma, store, warehouse, log } = this.deps;
    if (!this.verificationsRequeued) {
      // A verification cut short by a worker restart starts over.
      await prisma.verification.updateMany({ where: { status: "running" }, data: { status: "requested", chunksDone: 0 } });
      this.verificationsRequeued = true;
    }
    if (this.verifying) return;
    const next = await prisma.verification.findFirst({ where: { status: "requested" }, orderBy: { id: "asc" } });
    if (!next) return;
    const job = await store.load(next.jobId);
    const table = await prisma.syncJobTable.findFirst({
      where: { jobId: next.jobId, sourceDatabase: next.sourceDatabase, sourceTable: next.sourceTable },
    });
    if (!job || !table) {
      await prisma.verification.update({ where: { id: next.id }, data: { status: "failed", message: "The job or table no longer exists", finishedAt: new Date() } });
      return;
    }
    this.verifying = verifyTable(
      prisma,
      warehouse,
      {
        verificationId: next.id,
        source: job.source,
        database: table.sourceDatabase,
        table: table.sourceTable,
        sinkTable: table.sinkTable,
        keyColumns: table.keyColumns as string[],
      },
      log.child({ job: job.name }),
    ).finally(() => {
      this.verifying = undefined;
      this.nudge();
    });
  }

  private startRunner(jobId: number, name: string): void {
    const runner = new JobRunner(this.deps, jobId, name);
    this.runners.set(jobId, runner);
    runner.start();
    // A runner that ends by itself (fatal fault) leaves the map; a later resume starts a new one.
    void runner.done.then(() => {
      if (this.runners.get(jobId) === runner && !runner.stopping) this.runners.delete(jobId);
    });
    this.deps.log.info("job started", { job: name });
  }

  private sampleMetrics(): void {
    const now = Date.now();
    for (const runner of this.runners.values()) runner.metrics.sample(now);
    if (now - this.lastPersist < PERSIST_METRICS_EVERY_MS) return;
    this.lastPersist = now;
    for (const runner of this.runners.values()) {
      const s = runner.metrics.latest();
      if (s) void this.deps.store.saveMetricSample(runner.jobId, s).catch(() => undefined);
    }
  }
}

function asDesired(value: string): DesiredState {
  return (DESIRED_STATES as readonly string[]).includes(value) ? (value as DesiredState) : "stopped";
}
