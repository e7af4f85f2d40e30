// The runtime's reads and writes of job metadata. Kept in one place so the
// runner's logic reads as a pipeline, not as a list of Prisma calls.
import type { PrismaClient, SecretBox } from "@tide/db";
import { PipelineSpec, type BinlogPosition, type JobState, type ResolvedTable, type TablePhase } from "@tide/contracts";
import type { SourceConnectionConfig } from "@tide/cdc-mysql";
import type { CheckpointDetails, CompletedCheckpoint } from "./checkpoint-coordinator";

export interface LoadedJob {
  id: number;
  name: string;
  spec: PipelineSpec;
  serverId: number;
  source: SourceConnectionConfig;
}

export class JobStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secretBox: SecretBox,
  ) {}

  async load(jobId: number): Promise<LoadedJob | undefined> {
    const job = await this.prisma.syncJob.findUnique({ where: { id: jobId }, include: { source: true } });
    if (!job) return undefined;
    return {
      id: job.id,
      name: job.name,
      spec: PipelineSpec.parse(job.spec),
      serverId: job.serverId,
      source: {
        host: job.source.host,
        port: job.source.port,
        user: job.source.username,
        password: this.secretBox.decrypt(job.source.passwordEnc),
      },
    };
  }

  async setState(jobId: number, state: JobState, lastError?: string | null): Promise<void> {
    const data: { actualState: JobState; lastError?: string | null; lastErrorAt?: Date | null } = { actualState: state };
    if (lastError !== undefined) {
      data.lastError = lastError;
      data.lastErrorAt = lastError === null ? null : new Date();
    }
    await this.prisma.syncJob.updateMany({ where: { id: jobId }, data });
  }

  /** A snapshot-only job has done its work: it stays finished (not restarted) until resumed. */
  async finish(jobId: number): Promise<void> {
    await this.prisma.syncJob.updateMany({ where: { id: jobId }, data: { actualState: "finished", desiredState: "stopped", lastError: null, lastErrorAt: null } });
    await this.prisma.syncJobTable.updateMany({ where: { jobId }, data: { phase: "finished" } });
  }

  /** Makes sync_job_tables match what the job resolves to now. */
  async syncTables(jobId: number, tables: (ResolvedTable & { rowsEstimate: number })[]): Promise<void> {
    const existing = await this.prisma.syncJobTable.findMany({ where: { jobId } });
    const keep = new Set(tables.map((t) => `${t.database}.${t.table}`));
    const stale = existing.filter((e) => !keep.has(`${e.sourceDatabase}.${e.sourceTable}`)).map((e) => e.id);
    if (stale.length > 0) await this.prisma.syncJobTable.deleteMany({ where: { id: { in: stale } } });
    for (const t of tables) {
      const fields = { sinkTable: t.sinkTable, model: t.model, keyColumns: t.keyColumns, rowsEstimate: BigInt(t.rowsEstimate) };
      await this.prisma.syncJobTable.upsert({
        where: { jobId_sourceDatabase_sourceTable: { jobId, sourceDatabase: t.database, sourceTable: t.table } },
        create: { jobId, sourceDatabase: t.database, sourceTable: t.table, phase: "pending", ...fields },
        update: fields,
      });
    }
  }

  async setTablePhase(
    jobId: number,
    table: { database: string; table: string },
    phase: TablePhase,
    progress: { rowsCopied?: number; startedAt?: Date; finishedAt?: Date } = {},
  ): Promise<void> {
    await this.prisma.syncJobTable.updateMany({
      where: { jobId, sourceDatabase: table.database, sourceTable: table.table },
      data: {
        phase,
        ...(progress.rowsCopied !== undefined ? { rowsCopied: BigInt(progress.rowsCopied) } : {}),
        ...(progress.startedAt ? { snapshotStartedAt: progress.startedAt } : {}),
        ...(progress.finishedAt ? { snapshotFinishedAt: progress.finishedAt } : {}),
      },
    });
  }

  /** A failed job's tables say so: none of them is copied or followed until the job runs again. */
  async failTables(jobId: number): Promise<void> {
    await this.prisma.syncJobTable.updateMany({ where: { jobId, phase: { notIn: ["failed", "finished"] } }, data: { phase: "failed" } });
  }

  /**
   * A job running again after a failure: its tables wait (pending) until this run copies or
   * follows them, which sets their phase again (the snapshot's progress counters are kept).
   */
  async clearFailedTables(jobId: number): Promise<void> {
    await this.prisma.syncJobTable.updateMany({ where: { jobId, phase: "failed" }, data: { phase: "pending" } });
  }

  async addRowsCopied(jobId: number, table: { database: string; table: string }, rows: number): Promise<void> {
    if (rows === 0) return;
    await this.prisma.syncJobTable.updateMany({
      where: { jobId, sourceDatabase: table.database, sourceTable: table.table },
      data: { rowsCopied: { increment: BigInt(rows) } },
    });
  }

  /**
   * Saves a completed checkpoint: the source position whose changes the listed
   * (precommitted) loads hold. After this the loads are committed.
   */
  async saveCheckpoint(jobId: number, position: BinlogPosition, details: CheckpointDetails): Promise<void> {
    await this.prisma.checkpoint.create({ data: { jobId, position: { ...position }, details: JSON.parse(JSON.stringify(details)) as object } });
    // Keep the recent history only; the newest is where the job resumes.
    const old = await this.prisma.checkpoint.findMany({
      where: { jobId },
      orderBy: { id: "desc" },
      skip: 200,
      take: 1,
      select: { id: true },
    });
    if (old[0]) await this.prisma.checkpoint.deleteMany({ where: { jobId, id: { lte: old[0].id } } });
  }

  async recordSchemaChange(record: {
    jobId: number;
    sourceDatabase: string;
    sourceTable: string;
    statement: string;
    kind: string;
    parsed: unknown;
    behavior: string;
    outcome: "applied" | "ignored" | "failed";
    detail: string;
    durationMs: number;
    columnsBefore: unknown;
    columnsAfter: unknown;
    position: BinlogPosition;
    sourceTime: Date;
  }): Promise<void> {
    const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as object;
    await this.prisma.schemaChangeRecord.create({
      data: {
        ...record,
        parsed: json(record.parsed),
        columnsBefore: json(record.columnsBefore),
        columnsAfter: json(record.columnsAfter),
        position: json(record.position),
      },
    });
  }

  /** The job's last saved checkpoint: where it resumes. */
  async lastCheckpoint(jobId: number): Promise<CompletedCheckpoint | undefined> {
    const row = await this.prisma.checkpoint.findFirst({ where: { jobId }, orderBy: { id: "desc" } });
    if (!row?.details) return undefined;
    const details = row.details as unknown as CheckpointDetails;
    return { ...details, position: row.position as unknown as BinlogPosition };
  }

  async saveMetricSample(jobId: number, sample: { at: number; lagMs: number; rowsPerSec: number; eventsTotal: number }): Promise<void> {
    await this.prisma.metricSample.create({
      data: {
        jobId,
        at: new Date(sample.at),
        lagMs: Math.min(2_147_483_647, Math.round(sample.lagMs)),
        rowsPerSec: sample.rowsPerSec,
        eventsTotal: BigInt(sample.eventsTotal),
      },
    });
  }
}
