// Tide on one machine with nothing installed but Node and MariaDB's binaries: a
// private binlog-enabled mariadbd under the data directory (metadata DB `tide`
// plus any source databases), the worker and the console, supervised. Used by
// `npm run demo` and by the end-to-end tests.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createPrismaClient, ensureAdmin, migrate } from "@tide/db";
import { LocalMariadb } from "@tide/local-mariadb";
import { ProcessSupervisor } from "./process-supervisor";

const REPO = resolve(import.meta.dirname, "../..");

export interface LocalStackOptions {
  dataDir: string;
  webPort: number;
  workerPort: number;
  mariadbPort?: number;
  /** Extra environment for the worker (e.g. test crash points). */
  workerEnv?: Record<string, string>;
  /** Aborting it stops the start; whatever was already started is stopped again. */
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface LocalStack {
  mariadb: LocalMariadb;
  env: Record<string, string>;
  webUrl: string;
  admin: { username: string; password: string };
  /** The CDC connector account on the private server. */
  source: { host: string; port: number; user: string; password: string };
  supervisor: ProcessSupervisor;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((m: string) => console.log(`tide: ${m}`));
  const signal = options.signal;
  // Checked before anything starts: without a build there is nothing to clean up.
  if (!existsSync(join(REPO, "apps/web/.next/BUILD_ID"))) throw new Error("The console is not built: run `npm run build` first");
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });

  // Whatever was started so far is stopped again when a later step fails or the start is aborted.
  let mariadb: LocalMariadb | undefined;
  let supervisor: ProcessSupervisor | undefined;
  try {
    signal?.throwIfAborted();
    mariadb = await LocalMariadb.start({ dataDir: join(dataDir, "mariadb"), port: options.mariadbPort });
    signal?.throwIfAborted();
    log(`mariadbd (binlog on) listening on 127.0.0.1:${mariadb.port}`);

    const sourcePassword = persistentSecret(join(dataDir, "source-password"));
    // Both host forms: an anonymous ''@localhost user would shadow a '%'-only account.
    const grants = ["'cdc'@'%'", "'cdc'@'localhost'"]
      .map((u) => `CREATE USER IF NOT EXISTS ${u} IDENTIFIED BY '${sourcePassword}'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO ${u};`)
      .join("");
    await mariadb.sql(`CREATE DATABASE IF NOT EXISTS tide; ${grants}`);

    const env: Record<string, string> = {
      DATABASE_URL: mariadb.url("tide"),
      TIDE_DATA_DIR: dataDir,
      TIDE_WORKER_PORT: String(options.workerPort),
      TIDE_WORKER_URL: `http://127.0.0.1:${options.workerPort}`,
      NEXT_TELEMETRY_DISABLED: "1",
    };
    await migrate(env.DATABASE_URL!);
    const prisma = createPrismaClient(env.DATABASE_URL!);
    try {
      await ensureAdmin(prisma, dataDir);
    } finally {
      await prisma.$disconnect();
    }
    const [username, ...rest] = readFileSync(join(dataDir, "initial-admin-password"), "utf8").trim().split(":");
    signal?.throwIfAborted();

    supervisor = new ProcessSupervisor((m) => log(m));
    const childEnv = { ...process.env, ...env };
    supervisor.start({
      name: "worker",
      command: process.execPath,
      args: ["--import", "tsx", join(REPO, "apps/worker/src/main.ts")],
      env: { ...childEnv, ...options.workerEnv },
      cwd: REPO,
      logFile: join(dataDir, "logs", "worker.log"),
    });
    supervisor.start({
      name: "web",
      command: process.execPath,
      args: [join(REPO, "node_modules/next/dist/bin/next"), "start", "-p", String(options.webPort), "-H", "127.0.0.1"],
      env: { ...childEnv, NODE_ENV: "production" },
      cwd: join(REPO, "apps/web"),
      logFile: join(dataDir, "logs", "web.log"),
    });
    const webUrl = `http://127.0.0.1:${options.webPort}`;
    await waitFor(`${webUrl}/api/trpc/auth.me`, 90_000, "the console", signal);
    await waitFor(`${env.TIDE_WORKER_URL}/healthz`, 90_000, "the worker", signal);

    const started = { mariadb, supervisor };
    return {
      mariadb,
      env,
      webUrl,
      admin: { username: username ?? "admin", password: rest.join(":") },
      source: { host: "127.0.0.1", port: mariadb.port, user: "cdc", password: sourcePassword },
      supervisor,
      async stop() {
        await started.supervisor.stopAll();
        await started.mariadb.stop();
      },
    };
  } catch (error) {
    await supervisor?.stopAll().catch(() => undefined);
    await mariadb?.stop().catch(() => undefined);
    throw error;
  }
}

function persistentSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const value = randomBytes(12).toString("hex");
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

async function waitFor(url: string, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(5_000)]) : AbortSignal.timeout(5_000) });
      if (res.status < 500) return;
    } catch {
      // not up yet (an abort is rethrown at the top of the loop)
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s (${url}); see the logs in the data directory`);
}
