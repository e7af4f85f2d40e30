// The live demo: a private mariadbd under .tide-data holding the metadata DB and
// a "shop" database whose generator keeps changing orders, the worker, the
// console on http://localhost:3000, and a ready job syncing shop.* into the
// warehouse. Ctrl-C stops everything this started.
import { resolve } from "node:path";
import { applyJob } from "@tide/api/job-service";
import { createPrismaClient, SecretBox } from "@tide/db";
import { loadServerConfig } from "@tide/config";
import { createShop, ShopGenerator } from "./lib/demo-shop";
import { startLocalStack } from "./lib/local-stack";

const dataDir = resolve(process.env.TIDE_DATA_DIR ?? ".tide-data");
const webPort = Number(process.env.PORT ?? 3000);

const stack = await startLocalStack({
  dataDir,
  webPort,
  workerPort: Number(process.env.TIDE_WORKER_PORT ?? 4100),
  mariadbPort: Number(process.env.TIDE_DEMO_MARIADB_PORT ?? 3307),
});
const shopConn = await stack.mariadb.connect();
await createShop(shopConn);

const config = loadServerConfig({ ...process.env, ...stack.env });
const prisma = createPrismaClient(config.databaseUrl);
const job = await applyJob(
  { prisma, secretBox: new SecretBox(config.secretKey) },
  {
    source: { type: "mysql", ...{ hostname: stack.source.host, port: stack.source.port, username: stack.source.user, password: stack.source.password }, tables: "shop\\..*" },
    pipeline: { name: "shop-demo" },
  },
);
await prisma.$disconnect();
const generator = new ShopGenerator(shopConn);
generator.start();

console.log(`
  Tide is running.
    Console:   http://localhost:${webPort}   (sign in as ${stack.admin.username} / ${stack.admin.password})
    Demo job:  http://localhost:${webPort}/jobs/${job.id}  syncing shop.* from the private MariaDB on 127.0.0.1:${stack.mariadb.port}
    CLI:       npm run tide -- jobs list
    Data:      ${dataDir}  (logs in ${dataDir}/logs)
  The shop generator inserts, updates and deletes orders a few times a second.
  Press Ctrl-C to stop everything.
`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("tide: stopping");
  await generator.stop();
  await shopConn.end().catch(() => undefined);
  await stack.stop();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
