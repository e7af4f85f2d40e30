// The live demo: a private mariadbd under .tide-data holding the metadata DB and
// a "shop" database whose generator keeps changing orders, the worker, the
// console on http://localhost:3000, and a ready job syncing shop.* into the
// warehouse. Ctrl-C stops everything this started, also while it is starting.
// Ports and the data directory: PORT, TIDE_WORKER_PORT, TIDE_DEMO_MARIADB_PORT, TIDE_DATA_DIR.
import { resolve } from "node:path";
import type { Connection } from "mysql2/promise";
import { applyJob } from "@tide/api/job-service";
import { createPrismaClient, SecretBox } from "@tide/db";
import { loadServerConfig } from "@tide/config";
import { createShop, ShopGenerator } from "./lib/demo-shop";
import { startLocalStack, type LocalStack } from "./lib/local-stack";

// An empty variable means the default (an empty TIDE_DATA_DIR would otherwise be the current directory).
const dataDir = resolve(process.env.TIDE_DATA_DIR || ".tide-data");
const webPort = portFrom("PORT", 3000);
const workerPort = portFrom("TIDE_WORKER_PORT", 4100);
const mariadbPort = portFrom("TIDE_DEMO_MARIADB_PORT", 3307);

function portFrom(name: string, fallback: number): number {
  const text = process.env[name];
  if (!text) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`tide: ${name}=${text} is not a TCP port`);
    process.exit(1);
  }
  return port;
}

// Registered before anything starts, so a Ctrl-C during startup also stops what
// was started so far instead of leaving a mariadbd or a worker behind.
const stopRequest = new AbortController();
for (const name of ["SIGINT", "SIGTERM"] as const) {
  process.on(name, () => {
    if (stopRequest.signal.aborted) return console.log("tide: still stopping");
    console.log("tide: stopping");
    stopRequest.abort(new Error(`stopped by ${name}`));
  });
}

let stack: LocalStack | undefined;
let shopConn: Connection | undefined;
let generator: ShopGenerator | undefined;
let exitCode = 0;
try {
  // startLocalStack stops what it started itself when it fails or is aborted.
  stack = await startLocalStack({ dataDir, webPort, workerPort, mariadbPort, signal: stopRequest.signal });
  shopConn = await stack.mariadb.connect();
  await createShop(shopConn);
  stopRequest.signal.throwIfAborted();

  const config = loadServerConfig({ ...process.env, ...stack.env });
  const prisma = createPrismaClient(config.databaseUrl);
  const job = await applyJob(
    { prisma, secretBox: new SecretBox(config.secretKey) },
    {
      source: { type: "mysql", hostname: stack.source.host, port: stack.source.port, username: stack.source.user, password: stack.source.password, tables: "shop\\..*" },
      pipeline: { name: "shop-demo" },
    },
  ).finally(() => prisma.$disconnect());
  stopRequest.signal.throwIfAborted();
  generator = new ShopGenerator(shopConn);
  generator.start();

  // The CLI needs to be told where Tide is when it is not on the defaults.
  const cliEnv = [
    webPort !== 3000 ? `TIDE_URL=http://localhost:${webPort} ` : "",
    dataDir !== resolve(".tide-data") ? `TIDE_DATA_DIR=${dataDir} ` : "",
  ].join("");
  console.log(`
  Tide is running.
    Console:   http://localhost:${webPort}   (sign in as ${stack.admin.username} / ${stack.admin.password})
    Demo job:  http://localhost:${webPort}/jobs/${job.id}  syncing shop.* from the private MariaDB on 127.0.0.1:${stack.mariadb.port}
    CLI:       ${cliEnv}npm run tide -- jobs list
    Data:      ${dataDir}  (logs in ${dataDir}/logs)
  The shop generator inserts, updates and deletes orders a few times a second.
  Press Ctrl-C to stop everything.
`);
  await new Promise<void>((resolveStop) => {
    if (stopRequest.signal.aborted) return resolveStop();
    stopRequest.signal.addEventListener("abort", () => resolveStop(), { once: true });
  });
} catch (error) {
  if (!stopRequest.signal.aborted) {
    console.error(`tide: the demo could not start: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 1;
  }
} finally {
  await generator?.stop();
  await shopConn?.end().catch(() => undefined);
  await stack?.stop();
}
process.exit(exitCode);
