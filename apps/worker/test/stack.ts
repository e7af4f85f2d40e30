// Test fixture: a private mariadbd (metadata DB `tide` and source DB `shop`), the
// worker as a real child process (so tests can kill -9 it), and helpers to
// create jobs and compare the warehouse with the source.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadServerConfig } from "@tide/config";
import { ConsistentSnapshot, readTableSchema } from "@tide/cdc-mysql";
import { comparePositions, PipelineSpec, type BinlogPosition, type PipelineSpecInput, type Row } from "@tide/contracts";
import { allocateServerId, createPrismaClient, migrate, SecretBox, type PrismaClient } from "@tide/db";
import { freePort, LocalMariadb } from "@tide/local-mariadb";
import { Warehouse } from "@tide/warehouse";

const REPO = resolve(import.meta.dirname, "../../..");

export interface Stack {
  /** Holds the metadata DB `tide` (and the source DB `shop`, unless the source is separate). */
  mariadb: LocalMariadb;
  /** The source server (`shop`): the same as `mariadb` unless startStack was asked for a separate one. */
  source: LocalMariadb;
  prisma: PrismaClient;
  env: Record<string, string>;
  dataDir: string;
  workerLog: string;
  /** Starts the worker; with `allowExit` it may die before it is healthy (an armed crash point). */
  startWorker(extraEnv?: Record<string, string>, options?: { allowExit?: boolean }): Promise<void>;
  /** Waits for the worker to exit by itself (a crash point fired). */
  waitWorkerExit(timeoutMs?: number): Promise<void>;
  stopWorker(): Promise<void>;
  killWorker(): Promise<void>;
  workerPid(): number | undefined;
  createJob(spec: PipelineSpecInput): Promise<number>;
  close(): Promise<void>;
}

export async function startStack(name: string, options: { separateSource?: boolean } = {}): Promise<Stack> {
  const dataDir = resolve(REPO, ".test-data", `worker-${name}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const mariadb = await LocalMariadb.start({ dataDir: join(dataDir, "mariadb") });
  const source = options.separateSource ? await LocalMariadb.start({ dataDir: join(dataDir, "source"), serverId: 2 }) : mariadb;
  await mariadb.sql("CREATE DATABASE tide");
  await source.sql(
    "CREATE DATABASE shop;" +
      "CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc-secret-pw'; CREATE USER 'cdc'@'localhost' IDENTIFIED BY 'cdc-secret-pw';" +
      "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'cdc'@'%';" +
      "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'cdc'@'localhost';",
  );
  const workerPort = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: mariadb.url("tide"),
    TIDE_DATA_DIR: join(dataDir, "tide"),
    TIDE_WORKER_PORT: String(workerPort),
    TIDE_WORKER_URL: `http://127.0.0.1:${workerPort}`,
  };
  const config = loadServerConfig(env);
  await migrate(config.databaseUrl);
  const prisma = createPrismaClient(config.databaseUrl);
  const secretBox = new SecretBox(config.secretKey);
  const workerLog = join(dataDir, "worker.log");
  let worker: ChildProcess | undefined;

  const exited = (child: ChildProcess | undefined) => child !== undefined && (child.exitCode !== null || child.signalCode !== null);
  const waitHealthy = async (allowExit: boolean) => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exited(worker)) {
        if (allowExit) return;
        throw new Error(`worker exited with ${worker?.exitCode ?? worker?.signalCode}; see ${workerLog}`);
      }
      try {
        const res = await fetch(`${env.TIDE_WORKER_URL}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`worker not healthy within 60 s; see ${workerLog}`);
  };

  const stack: Stack = {
    mariadb,
    source,
    prisma,
    env,
    dataDir,
    workerLog,
    async startWorker(extraEnv = {}, startOptions = {}) {
      const out = openSync(workerLog, "a");
      // TIDE_WORKER_NODE_ARGS: extra node flags for the worker (e.g. --cpu-prof when profiling a benchmark).
      const nodeArgs = (process.env.TIDE_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
      worker = spawn(process.execPath, [...nodeArgs, "--import", "tsx", join(REPO, "apps/worker/src/main.ts")], {
        cwd: REPO,
        env: { ...process.env, ...env, ...extraEnv },
        stdio: ["ignore", out, out],
      });
      await waitHealthy(startOptions.allowExit ?? false);
    },
    async waitWorkerExit(timeoutMs = 60_000) {
      const child = worker;
      if (!child) return;
      const deadline = Date.now() + timeoutMs;
      while (!exited(child)) {
        if (Date.now() > deadline) throw new Error(`the worker did not exit within ${timeoutMs} ms; see ${workerLog}`);
        await sleep(50);
      }
      worker = undefined;
    },
    async stopWorker() {
      await signalAndWait(worker, "SIGTERM");
      worker = undefined;
    },
    async killWorker() {
      await signalAndWait(worker, "SIGKILL");
      worker = undefined;
    },
    workerPid: () => worker?.pid,
    async createJob(input) {
      const spec = PipelineSpec.parse(input);
      const { password, ...source } = spec.source;
      const conn = await prisma.sourceConnection.create({
        data: {
          name: `${spec.pipeline.name}-source`,
          kind: "mysql",
          host: source.hostname,
          port: source.port,
          username: source.username,
          passwordEnc: secretBox.encrypt(password ?? ""),
        },
      });
      const job = await prisma.syncJob.create({
        data: {
          name: spec.pipeline.name,
          sourceId: conn.id,
          spec: { ...spec, source },
          desiredState: "running",
          actualState: "pending",
          serverId: source["server-id"] ?? (await allocateServerId(prisma)),
        },
      });
      return job.id;
    },
    async close() {
      await signalAndWait(worker, "SIGKILL");
      await prisma.$disconnect();
      if (source !== mariadb) await source.stop();
      await mariadb.stop();
    },
  };
  return stack;
}

export function sourceSpec(stack: Stack, name: string, tables: string, extra: Partial<PipelineSpecInput> = {}): PipelineSpecInput {
  return {
    source: { type: "mysql", hostname: "127.0.0.1", port: stack.source.port, username: "cdc", password: "cdc-secret-pw", tables },
    pipeline: { name },
    ...extra,
  };
}

/** Waits until the job's checkpoint in the metadata DB has reached the source's current binlog end. */
export async function waitCaughtUp(stack: Stack, jobId: number, timeoutMs = 120_000): Promise<void> {
  const [status] = (await stack.source.sql("SHOW MASTER STATUS")) as { File: string; Position: number | string }[];
  const target: BinlogPosition = { file: status!.File, pos: Number(status!.Position) };
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const cp = await stack.prisma.checkpoint.findFirst({ where: { jobId }, orderBy: { id: "desc" } });
    last = cp?.position;
    if (cp && comparePositions(cp.position as unknown as BinlogPosition, target) >= 0) return;
    const job = await stack.prisma.syncJob.findUnique({ where: { id: jobId } });
    if (job?.actualState === "failed") throw new Error(`job failed: ${job.lastError}`);
    await sleep(200);
  }
  throw new Error(`job did not catch up to ${target.file}:${target.pos} within ${timeoutMs} ms (last checkpoint ${JSON.stringify(last)})`);
}

export async function waitForState(stack: Stack, jobId: number, state: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let job;
  while (Date.now() < deadline) {
    job = await stack.prisma.syncJob.findUnique({ where: { id: jobId } });
    if (job?.actualState === state) return;
    if (job?.actualState === "failed" && state !== "failed") throw new Error(`job failed: ${job.lastError}`);
    await sleep(100);
  }
  throw new Error(`job did not reach ${state} within ${timeoutMs} ms (is ${job?.actualState}, last error ${job?.lastError})`);
}

/** Row count and an order-independent checksum over every column of every row. */
export interface TableDigest {
  rows: number;
  checksum: string;
}

export function digestRows(rows: Row[]): TableDigest {
  let sum = 0n;
  for (const row of rows) {
    const canonical = JSON.stringify(Object.keys(row).sort().map((k) => [k, encodeValue(row[k])]));
    sum = (sum + BigInt(`0x${createHash("sha256").update(canonical).digest("hex").slice(0, 16)}`)) & 0xffffffffffffffffn;
  }
  return { rows: rows.length, checksum: sum.toString(16) };
}

function encodeValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString("hex")}`;
  if (typeof v === "bigint") return v.toString();
  return v;
}

/** Reads a source table through the same consistent snapshot path the sync uses. */
export async function sourceRows(stack: Stack, database: string, table: string): Promise<Row[]> {
  const root = { host: "127.0.0.1", port: stack.source.port, user: "root", password: "" };
  const snapshot = await ConsistentSnapshot.open(root);
  try {
    const schema = await readTableSchema(root, database, table);
    const rows: Row[] = [];
    await snapshot.readTable(schema, 10_000, async (batch) => {
      for (const r of batch) rows.push(r);
    });
    return rows;
  } finally {
    await snapshot.close();
  }
}

/** Reads a warehouse table from the DuckDB file; the worker must be stopped (it owns the file). */
export async function warehouseRows(stack: Stack, schema: string, table: string): Promise<Row[]> {
  const warehouse = await Warehouse.open(join(stack.env.TIDE_DATA_DIR!, "warehouse.duckdb"));
  try {
    return await warehouse.readAll(schema, table);
  } finally {
    await warehouse.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function signalAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  await exited;
}
