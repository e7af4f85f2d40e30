import { z } from "zod";
import { NotFoundError, parsePipelineYaml, type JobMetricsSample, type TablePhase } from "@tide/contracts";
import type { ApiContext } from "../context";
import { applyJob, createJob, exportYaml, requestResnapshot } from "../job-service";
import { procedureFor, router } from "../trpc";

const JobRef = z.object({ id: z.number().int().positive() });
const METRICS_EVERY_MS = 1_000;

async function findJob(ctx: ApiContext, id: number) {
  const job = await ctx.services.prisma.syncJob.findUnique({ where: { id }, include: { source: true, tables: true } });
  if (!job) throw new NotFoundError(`There is no job ${id}`);
  return job;
}

async function setDesired(ctx: ApiContext, id: number, desiredState: "running" | "paused" | "stopped") {
  await findJob(ctx, id);
  // Resuming also clears a failure: the user asks the job to try again.
  const data =
    desiredState === "running"
      ? { desiredState, actualState: "pending", lastError: null, lastErrorAt: null }
      : { desiredState };
  await ctx.services.prisma.syncJob.update({ where: { id }, data });
  await ctx.services.worker.nudge();
  return { ok: true };
}

export const jobsRouter = router({
  list: procedureFor("viewer").query(async ({ ctx }) => {
    const jobs = await ctx.services.prisma.syncJob.findMany({ include: { source: true, tables: true }, orderBy: { name: "asc" } });
    return jobs.map((job) => ({
      id: job.id,
      name: job.name,
      desiredState: job.desiredState,
      actualState: job.actualState,
      lastError: job.lastError,
      tableCount: job.tables.length,
      rowsCopied: job.tables.reduce((sum, t) => sum + Number(t.rowsCopied), 0),
      sourceHost: `${job.source.host}:${job.source.port}`,
      createdAt: job.createdAt.toISOString(),
    }));
  }),

  get: procedureFor("viewer")
    .input(JobRef)
    .query(async ({ ctx, input }) => {
      const job = await findJob(ctx, input.id);
      // Chunked snapshot progress, as of the last checkpoint.
      const lastCheckpoint = await ctx.services.prisma.checkpoint.findFirst({ where: { jobId: job.id }, orderBy: { id: "desc" } });
      const snapshots = ((lastCheckpoint?.details ?? {}) as { snapshots?: Record<string, { chunks: { readAt?: unknown; rows?: number }[] }> }).snapshots ?? {};
      const snapshotProgress = (db: string, table: string) => {
        const plan = snapshots[`${db}.${table}`];
        if (!plan) return null;
        const done = plan.chunks.filter((c) => c.readAt !== undefined);
        return { chunksDone: done.length, chunksTotal: plan.chunks.length, rowsLoaded: done.reduce((n, c) => n + (c.rows ?? 0), 0) };
      };
      const verifications = await ctx.services.prisma.verification.findMany({ where: { jobId: job.id }, orderBy: { id: "desc" }, take: 200 });
      const lastVerification = (db: string, table: string) => {
        const v = verifications.find((x) => x.sourceDatabase === db && x.sourceTable === table);
        return v
          ? {
              id: v.id,
              status: v.status as "requested" | "running" | "equal" | "different" | "failed",
              sourceRows: v.sourceRows === null ? null : Number(v.sourceRows),
              warehouseRows: v.warehouseRows === null ? null : Number(v.warehouseRows),
              chunksDone: v.chunksDone,
              chunksTotal: v.chunksTotal,
              differences: (v.differences ?? []) as { from: string; to: string; sourceRows: number; warehouseRows: number; sampleKeys: string[] }[],
              message: v.message,
              requestedAt: v.requestedAt.toISOString(),
              finishedAt: v.finishedAt?.toISOString() ?? null,
            }
          : null;
      };
      return {
        id: job.id,
        name: job.name,
        desiredState: job.desiredState,
        actualState: job.actualState,
        lastError: job.lastError,
        lastErrorAt: job.lastErrorAt?.toISOString() ?? null,
        spec: job.spec,
        yaml: exportYaml(job.spec),
        createdAt: job.createdAt.toISOString(),
        source: { host: job.source.host, port: job.source.port, username: job.source.username },
        tables: job.tables
          .sort((a, b) => `${a.sourceDatabase}.${a.sourceTable}`.localeCompare(`${b.sourceDatabase}.${b.sourceTable}`))
          .map((t) => ({
            sourceDatabase: t.sourceDatabase,
            sourceTable: t.sourceTable,
            sinkTable: t.sinkTable,
            model: t.model as "unique" | "duplicate",
            keyColumns: t.keyColumns as string[],
            phase: t.phase as TablePhase,
            rowsCopied: Number(t.rowsCopied),
            rowsEstimate: t.rowsEstimate === null ? null : Number(t.rowsEstimate),
            verification: lastVerification(t.sourceDatabase, t.sourceTable),
            snapshot: snapshotProgress(t.sourceDatabase, t.sourceTable),
          })),
      };
    }),

  byName: procedureFor("viewer")
    .input(z.object({ name: z.string().min(1) }))
    .query(async ({ ctx, input }) => {
      const job = await ctx.services.prisma.syncJob.findUnique({ where: { name: input.name }, select: { id: true } });
      if (!job) throw new NotFoundError(`There is no job named "${input.name}"`);
      return job;
    }),

  create: procedureFor("editor")
    .input(z.object({ spec: z.unknown() }))
    .mutation(async ({ ctx, input }) => {
      const created = await createJob(ctx.services, input.spec);
      await ctx.services.worker.nudge();
      return created;
    }),

  applyPipeline: procedureFor("editor")
    .input(z.object({ yaml: z.string().min(1, "The pipeline file is empty"), password: z.string().optional() }))
    .mutation(async ({ ctx, input }) => {
      const spec = parsePipelineYaml(input.yaml);
      if (input.password !== undefined) spec.source.password = input.password;
      const result = await applyJob(ctx.services, spec);
      await ctx.services.worker.nudge();
      return result;
    }),

  pause: procedureFor("editor").input(JobRef).mutation(({ ctx, input }) => setDesired(ctx, input.id, "paused")),
  resume: procedureFor("editor").input(JobRef).mutation(({ ctx, input }) => setDesired(ctx, input.id, "running")),
  stop: procedureFor("editor").input(JobRef).mutation(({ ctx, input }) => setDesired(ctx, input.id, "stopped")),

  /** Forgets the job's checkpoints so it snapshots every table again: the remedy for a purged binlog. */
  resnapshot: procedureFor("editor")
    .input(JobRef)
    .mutation(async ({ ctx, input }) => {
      await findJob(ctx, input.id);
      await requestResnapshot(ctx.services.prisma, input.id);
      await ctx.services.worker.nudge();
      return { ok: true };
    }),

  /** Asks the worker to compare source and warehouse, for one table (`db.table`) or all of the job's.
   *  Editors only: it writes verification records and makes the worker read the source. */
  verify: procedureFor("editor")
    .input(JobRef.extend({ table: z.string().optional() }))
    .mutation(async ({ ctx, input }) => {
      const job = await findJob(ctx, input.id);
      const tables = job.tables.filter((t) => !input.table || `${t.sourceDatabase}.${t.sourceTable}` === input.table);
      if (tables.length === 0) throw new NotFoundError(input.table ? `The job has no table ${input.table}` : "The job has no tables yet");
      const created = [];
      for (const t of tables) {
        created.push(
          await ctx.services.prisma.verification.create({
            data: { jobId: job.id, sourceDatabase: t.sourceDatabase, sourceTable: t.sourceTable, status: "requested" },
          }),
        );
      }
      await ctx.services.worker.nudge();
      return { verificationIds: created.map((v) => v.id) };
    }),

  /** The schema-change history: every source DDL seen for the job's tables and what was done about it. */
  schemaChanges: procedureFor("viewer")
    .input(
      z.object({
        id: z.number().int().positive().optional(),
        table: z.string().optional(),
        kind: z.string().optional(),
        outcome: z.enum(["applied", "ignored", "failed"]).optional(),
        limit: z.number().int().min(1).max(1000).default(200),
      }),
    )
    .query(async ({ ctx, input }) => {
      const [database, table] = input.table?.split(".") ?? [];
      const rows = await ctx.services.prisma.schemaChangeRecord.findMany({
        where: {
          ...(input.id ? { jobId: input.id } : {}),
          ...(database && table ? { sourceDatabase: database, sourceTable: table } : {}),
          ...(input.kind ? { kind: input.kind } : {}),
          ...(input.outcome ? { outcome: input.outcome } : {}),
        },
        include: { job: { select: { name: true } } },
        orderBy: { id: "desc" },
        take: input.limit,
      });
      return rows.map((r) => ({
        id: r.id,
        jobId: r.jobId,
        jobName: r.job.name,
        table: `${r.sourceDatabase}.${r.sourceTable}`,
        statement: r.statement,
        kind: r.kind,
        parsed: r.parsed,
        behavior: r.behavior,
        outcome: r.outcome as "applied" | "ignored" | "failed",
        detail: r.detail,
        durationMs: r.durationMs,
        columnsBefore: r.columnsBefore as { name: string; mysqlType: string; nullable: boolean }[],
        columnsAfter: r.columnsAfter as { name: string; mysqlType: string; nullable: boolean }[],
        position: r.position as { file: string; pos: number },
        sourceTime: r.sourceTime.toISOString(),
        recordedAt: r.createdAt.toISOString(),
      }));
    }),

  metricsHistory: procedureFor("viewer")
    .input(JobRef)
    .query(async ({ ctx, input }) => {
      const live = await ctx.services.worker.jobMetricsHistory(input.id).catch(() => [] as JobMetricsSample[]);
      if (live.length > 0) return live;
      // The worker restarted (or the job is not running): fall back to persisted samples.
      const stored = await ctx.services.prisma.metricSample.findMany({
        where: { jobId: input.id, at: { gte: new Date(Date.now() - 10 * 60_000) } },
        orderBy: { at: "asc" },
      });
      return stored.map(
        (s): JobMetricsSample => ({
          jobId: s.jobId,
          at: s.at.getTime(),
          state: "",
          lagMs: s.lagMs,
          rowsPerSec: s.rowsPerSec,
          eventsTotal: Number(s.eventsTotal),
          snapshotRowsCopied: 0,
        }),
      );
    }),

  /** A live sample every second while the page is open (SSE). */
  metrics: procedureFor("viewer")
    .input(JobRef)
    .subscription(async function* ({ ctx, input, signal }) {
      while (!signal?.aborted) {
        const sample = await ctx.services.worker.jobMetrics(input.id).catch(() => undefined);
        if (sample) yield sample;
        await new Promise((r) => setTimeout(r, METRICS_EVERY_MS));
      }
    }),
});
