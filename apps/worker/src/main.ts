// The worker runtime process: owns the DuckDB warehouse, runs the sync jobs the
// metadata DB asks for, and serves the internal API on loopback.
import { loadServerConfig } from "@tide/config";
import { createPrismaClient, migrate, SecretBox } from "@tide/db";
import { armCrashPoints, classifyFault, createLogger, JobStore, maskUrlCredentials, Reconciler } from "@tide/runtime";
import { Warehouse } from "@tide/warehouse";
import { createInternalApi } from "./internal-api";
import { WorkerHeartbeat } from "./worker-heartbeat";

const log = createLogger({ component: "worker" });
/** The exit status of a worker that exits to be restarted (EX_TEMPFAIL): its warehouse must be reopened. */
const EXIT_FOR_RESTART = 75;
const EXIT_GRACE_MS = 15_000;
/** The exit status of a worker that could not start (its reason is printed and kept in worker_status). */
const EXIT_START_FAILED = 1;
/** How long a failed start may spend recording why, when the metadata DB is the trouble. */
const RECORD_FAILURE_MS = 5_000;

const startedAtMs = Date.now();
/** What start-up is doing, named when it fails; the heartbeat once the metadata DB can be written. */
const startup: { step: string; warehousePath?: string; heartbeat?: WorkerHeartbeat } = { step: "reading the configuration" };

async function main(): Promise<void> {
  const config = loadServerConfig();
  startup.warehousePath = config.warehousePath;
  startup.step = "migrating the metadata DB";
  await migrate(config.databaseUrl);
  const prisma = createPrismaClient(config.databaseUrl);
  const heartbeat = new WorkerHeartbeat(prisma, config.workerName, startedAtMs, config.supervisorLastExit);
  startup.heartbeat = heartbeat;
  startup.step = `opening the warehouse at ${config.warehousePath}`;
  const warehouse = await Warehouse.open(config.warehousePath);
  const store = new JobStore(prisma, new SecretBox(config.secretKey));
  armCrashPoints(config.testCrashPoints);
  const reconciler = new Reconciler({
    prisma,
    warehouse,
    store,
    log,
    checkpointIntervalMs: config.checkpointIntervalMs,
    snapshotChunkRows: config.snapshotChunkRows,
    readerHeapMb: config.binlogReaderHeapMb,
    warehousePath: config.warehousePath,
    // DuckDB cannot be used again in this process once it invalidated the database: exit, and the
    // supervisor's restart reopens it (recovering to its last commit). The failed job waits for Retry.
    onWarehouseLost: (reason) => void exitForRestart(reason),
  });
  startup.step = "recording the worker in worker_status";
  await heartbeat.start();

  startup.step = `listening on 127.0.0.1:${config.workerPort}`;
  const server = createInternalApi({ secret: config.internalSecret, warehouse, reconciler, startedAtMs });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.workerPort, "127.0.0.1", () => resolve());
  });
  reconciler.start();
  log.info("worker ready", { port: config.workerPort, warehouse: config.warehousePath, pid: process.pid });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    server.close();
    await reconciler.stop();
    await heartbeat.stop(`stopped by ${signal}`);
    await warehouse.close();
    await prisma.$disconnect();
    process.exit(0);
  };
  const exitForRestart = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.error("the warehouse was invalidated; exiting to be restarted", { reason });
    server.close();
    // Other jobs stop where they are; their open loads were never checkpointed and are aborted on restart.
    await Promise.race([reconciler.stop().catch(() => undefined), new Promise((r) => setTimeout(r, EXIT_GRACE_MS))]);
    await heartbeat.exitForRestart(reason);
    await prisma.$disconnect().catch(() => undefined);
    process.exit(EXIT_FOR_RESTART);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch(async (error: unknown) => {
  // Classified as a job's fault would be (a full disk, a lost connection), on one line.
  const fault = classifyFault(error, { warehousePath: startup.warehousePath });
  const reason = maskUrlCredentials(`${startup.step} failed: ${fault.message}`.replace(/\s*\n\s*/g, " "));
  log.error("worker failed to start", { step: startup.step, reason, error });
  // The console shows it beside the worker's status; the metadata DB may be what failed, so not for long.
  if (startup.heartbeat) {
    const recorded = startup.heartbeat.recordStartFailure(reason).then(
      () => true,
      () => false,
    );
    const timeout = new Promise<false>((r) => setTimeout(() => r(false), RECORD_FAILURE_MS).unref());
    if (!(await Promise.race([recorded, timeout]))) log.warn("could not record the failed start in worker_status");
  }
  process.stderr.write(`Tide worker could not start: ${reason}\n`);
  process.exit(EXIT_START_FAILED);
});
