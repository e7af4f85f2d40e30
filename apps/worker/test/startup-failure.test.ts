// A worker that cannot start says why: one plain line on stderr, the reason in
// worker_status (the console shows it), and a non-zero exit for its supervisor.
// The warehouse file is held by a DuckDB instance in this test process; DuckDB
// refuses a second process that wants to write it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { freePort } from "@tide/local-mariadb";
import { Warehouse } from "@tide/warehouse";
import { startStack, type Stack } from "./stack";

const REPO = resolve(import.meta.dirname, "../../..");
let stack: Stack;

before(async () => {
  stack = await startStack("startup-failure");
});

after(async () => {
  await stack?.close();
});

/** Runs the worker to its exit: its status, pid and what it wrote. */
async function runWorker(env: Record<string, string>): Promise<{ code: number | null; pid: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "apps/worker/src/main.ts")], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  return { code, pid: child.pid!, stdout, stderr };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("a warehouse file held by another process: the worker exits 1 naming the file and the holder, records it, and the next start counts it", async () => {
  const path = join(stack.dataDir, "held", "warehouse.duckdb");
  const holder = await Warehouse.open(path);
  let failed;
  try {
    failed = await runWorker({ ...stack.env, TIDE_WAREHOUSE_PATH: path });
  } finally {
    await holder.close();
  }
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  const reason = new RegExp(
    `^opening the warehouse at ${escape(path)} failed: IO Error: Could not set lock on file "${escape(path)}": Conflicting lock is held in .* \\(PID ${process.pid}\\)`,
  );
  // One line for a person, last; the structured log line carries the same reason.
  const lines = failed.stderr.trim().split("\n");
  const last = lines[lines.length - 1]!;
  assert.match(last.replace(/^Tide worker could not start: /, ""), reason);
  assert.ok(last.startsWith("Tide worker could not start: "), last);
  const logged = failed.stdout
    .trim()
    .split("\n")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { level: string; msg: string; reason?: string }];
      } catch {
        return []; // not one of the worker's log lines
      }
    })
    .find((l) => l.msg === "worker failed to start");
  assert.equal(logged?.level, "error");
  assert.equal(`Tide worker could not start: ${logged?.reason}`, last);

  const status = await stack.prisma.workerStatus.findUniqueOrThrow({ where: { id: "default" } });
  assert.equal(status.pid, failed.pid);
  assert.equal(status.lastExitReason, `The worker process (pid ${failed.pid}) exited at start-up: ${logged?.reason}`);

  // With the file free the next worker starts, and shows its predecessor's failed start as a restart.
  await stack.startWorker({ TIDE_WAREHOUSE_PATH: path });
  try {
    const next = await stack.prisma.workerStatus.findUniqueOrThrow({ where: { id: "default" } });
    assert.equal(next.pid, stack.workerPid());
    assert.equal(next.restarts, 1);
    assert.equal(next.lastExitReason, status.lastExitReason);
  } finally {
    await stack.stopWorker();
  }
});

test("a metadata DB that cannot be reached: the worker exits 1 with the step and the cause on one line, the password masked", async () => {
  const port = await freePort();
  const failed = await runWorker({ ...stack.env, DATABASE_URL: `mysql://tide:hunter2-secret@127.0.0.1:${port}/tide` });
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  const lines = failed.stderr.trim().split("\n");
  assert.match(lines[lines.length - 1]!, new RegExp(`^Tide worker could not start: migrating the metadata DB failed: ECONNREFUSED: .*127\\.0\\.0\\.1:${port}`));
  assert.ok(!(failed.stdout + failed.stderr).includes("hunter2-secret"), "the password is never printed");
});
