// The worker runtime process: owns the DuckDB warehouse, runs the sync jobs the
// metadata DB asks for, and serves the internal API on loopback.
import { loadServerConfig } from "@tide/config";
import { createPrismaClient, migrate, SecretBox } from "@tide/db";
import { armCrashPoints, createLogger, JobStore, Reconciler } from "@tide/runtime";
import { Warehouse } from "@tide/warehouse";
import { createInternalApi } from "./internal-api";
import { WorkerHeartbeat } from "./worker-heartbeat";

const log = createLogger({ component: "worker" });
/** The exit status of a worker that exits to be restarted (EX_TEMPFAIL): its warehouse must be reopened. */
const EXIT_FOR_RESTART = 75;
const EXIT_GRACE_MS = 15_000;

async function main(): Promise<void> {
  const config = loadServerConfig();
  const startedAtMs = Date.now();
  await migrate(config.databaseUrl);
  const prisma = createPrismaClient(config.databaseUrl);
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
    warehousePath: config.warehousePath,
    // DuckDB cannot be used again in this process once it invalidated the database: exit, and the
    // supervisor's restart reopens it (recovering to its last commit). The failed job waits for Retry.
    onWarehouseLost: (reason) => void exitForRestart(reason),
  });
  const heartbeat = new WorkerHeartbeat(prisma, config.workerName, startedAtMs, config.supervisorLastExit);
  await heartbeat.start();

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

main().catch((error: unknown) => {
  log.error("worker failed to start", { error });
  process.exit(1);
});
