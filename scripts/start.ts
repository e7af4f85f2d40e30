// `npm start`: Tide in production on one machine. Needs DATABASE_URL (the
// metadata DB; created and migrated on start). Runs the worker and the console
// under a supervisor that restarts either if it dies; SIGTERM/Ctrl-C stops both.
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { loadServerConfig } from "@tide/config";
import { ProcessSupervisor } from "./lib/process-supervisor";

const repo = resolve(import.meta.dirname, "..");
const config = loadServerConfig();
const port = process.env.PORT ?? "3000";
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TIDE_DATA_DIR: config.dataDir };
const supervisor = new ProcessSupervisor((m) => console.log(`tide: ${m}`));

if (!existsSync(join(repo, "apps/web/.next/BUILD_ID"))) {
  console.error("tide: the console is not built; run `npm run build` first");
  process.exit(1);
}
supervisor.start({
  name: "worker",
  command: process.execPath,
  args: ["--import", "tsx", join(repo, "apps/worker/src/main.ts")],
  env,
  cwd: repo,
  logFile: join(config.dataDir, "logs", "worker.log"),
});
supervisor.start({
  name: "web",
  command: process.execPath,
  args: [join(repo, "node_modules/next/dist/bin/next"), "start", "-p", port],
  env,
  cwd: join(repo, "apps/web"),
  logFile: join(config.dataDir, "logs", "web.log"),
});
console.log(`tide: console on http://localhost:${port}, worker on ${config.workerUrl}, logs in ${join(config.dataDir, "logs")}`);

const stop = async () => {
  await supervisor.stopAll();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
