// Server-side configuration, read from the environment once and validated. Nothing
// else in Tide reads process.env. Secrets that are not given are generated into the
// data directory on first start (mode 0600) and reused afterwards.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";

const EnvSchema = z.object({
  /** Metadata database, e.g. mysql://tide:pw@127.0.0.1:3306/tide */
  DATABASE_URL: z.string().regex(/^mysql:\/\//, "DATABASE_URL must be a mysql:// URL"),
  /** Where Tide keeps its files (warehouse, generated keys). Default: ./.tide-data */
  TIDE_DATA_DIR: z.string().default(".tide-data"),
  /** 32-byte AES-256-GCM key for source passwords, base64 or hex. Generated into the data directory when absent. */
  TIDE_SECRET_KEY: z.string().optional(),
  /** Shared secret between web app and worker. Generated into the data directory when absent. */
  TIDE_INTERNAL_SECRET: z.string().min(16).optional(),
  /** The worker's internal API. Default http://127.0.0.1:4100 */
  TIDE_WORKER_URL: z.string().url().default("http://127.0.0.1:4100"),
  TIDE_WORKER_PORT: z.coerce.number().int().min(1).max(65535).default(4100),
  /** DuckDB file. Default <data dir>/warehouse.duckdb */
  TIDE_WAREHOUSE_PATH: z.string().optional(),
  /** Name/pid row in worker_status; lets several workers be told apart later. */
  TIDE_WORKER_NAME: z.string().default("default"),
  /** How often sync jobs checkpoint and make their changes visible (ms). */
  TIDE_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(500),
  /** Rows per key range of a chunked snapshot. */
  TIDE_SNAPSHOT_CHUNK_ROWS: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  /** Heap limit of each job's binlog reader thread, MiB: bounds its memory; a row larger than about a fifth of it cannot be read. */
  TIDE_BINLOG_READER_HEAP_MB: z.coerce.number().int().min(64).max(16_384).default(192),
  /** Set by Tide's process supervisor on a restart: how the previous process ended. */
  TIDE_SUPERVISOR_LAST_EXIT: z.string().optional(),
  /** Test-only: comma-separated crash points that make the worker exit (see runtime/crash-points.ts). */
  TIDE_TEST_CRASH_POINTS: z.string().optional(),
});

export interface ServerConfig {
  databaseUrl: string;
  dataDir: string;
  secretKey: Buffer;
  internalSecret: string;
  workerUrl: string;
  workerPort: number;
  warehousePath: string;
  workerName: string;
  testCrashPoints: string[];
  checkpointIntervalMs: number;
  snapshotChunkRows: number;
  binlogReaderHeapMb: number;
  /** How the previous worker process ended, when a supervisor restarted this one. */
  supervisorLastExit: string | undefined;
}

let cached: ServerConfig | undefined;

/** Reads and validates the environment; throws a readable error listing every bad variable. */
export function loadServerConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  if (cached && env === process.env) return cached;
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Tide's configuration is incomplete:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = isAbsolute(e.TIDE_DATA_DIR) ? e.TIDE_DATA_DIR : resolve(e.TIDE_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const config: ServerConfig = {
    databaseUrl: e.DATABASE_URL,
    dataDir,
    secretKey:
      e.TIDE_SECRET_KEY !== undefined
        ? parseKey(e.TIDE_SECRET_KEY, "TIDE_SECRET_KEY")
        : parseKey(generatedSecret(dataDir, "secret.key", () => randomBytes(32).toString("base64")), `The key in ${join(dataDir, "secret.key")}`),
    internalSecret: e.TIDE_INTERNAL_SECRET ?? generatedSecret(dataDir, "internal-secret", () => randomBytes(24).toString("hex")),
    workerUrl: e.TIDE_WORKER_URL.replace(/\/$/, ""),
    workerPort: e.TIDE_WORKER_PORT,
    warehousePath: e.TIDE_WAREHOUSE_PATH ?? join(dataDir, "warehouse.duckdb"),
    workerName: e.TIDE_WORKER_NAME,
    checkpointIntervalMs: e.TIDE_CHECKPOINT_INTERVAL_MS,
    snapshotChunkRows: e.TIDE_SNAPSHOT_CHUNK_ROWS,
    binlogReaderHeapMb: e.TIDE_BINLOG_READER_HEAP_MB,
    supervisorLastExit: e.TIDE_SUPERVISOR_LAST_EXIT,
    testCrashPoints: (e.TIDE_TEST_CRASH_POINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  };
  if (env === process.env) cached = config;
  return config;
}

function generatedSecret(dataDir: string, file: string, make: () => string): string {
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const value = make();
  // "wx": two processes starting together must not overwrite each other's key.
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
    return value;
  } catch {
    return readFileSync(path, "utf8").trim();
  }
}

/** `origin` names where the key came from; the error never shows the key itself. */
function parseKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  // Node's base64 decoder skips characters it does not know, so a mistyped key would
  // silently become a different one: only well-formed base64 (or base64url) is taken.
  if (/^[A-Za-z0-9+/]{43}=?$/.test(trimmed) || /^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, "base64");
    if (key.length === 32) return key;
  }
  throw new Error(`${origin} must be 32 bytes, as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`);
}
