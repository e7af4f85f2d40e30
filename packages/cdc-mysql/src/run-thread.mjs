// Starts a worker thread's entry module. Threads do not inherit the tsx loader
// the process was started with (Node 20), so a TypeScript entry registers it.
import { workerData } from "node:worker_threads";

if (workerData.entry.endsWith(".ts")) (await import("tsx/esm/api")).register();
await import(workerData.entry);
