// The supervisor behind `npm start` and `npm run demo`: a process that dies is
// started again and told how its predecessor ended; stopAll ends everything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ProcessSupervisor } from "../lib/process-supervisor";

const DIR = resolve(import.meta.dirname, "../../.test-data/supervisor");

test("a killed process is restarted with the reason, and stopAll stops it", async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const marker = join(DIR, "runs.log");
  // First run: record, then die by SIGKILL. Later runs: record the reason and keep running.
  const script = `
    const fs = require("fs");
    fs.appendFileSync(${JSON.stringify(marker)}, (process.env.TIDE_SUPERVISOR_LAST_EXIT ?? "first start") + "\\n");
    if (!process.env.TIDE_SUPERVISOR_LAST_EXIT) process.kill(process.pid, "SIGKILL");
    setInterval(() => {}, 1000);`;
  const events: string[] = [];
  const supervisor = new ProcessSupervisor((m) => events.push(m));
  supervisor.start({ name: "worker", command: process.execPath, args: ["-e", script], env: { ...process.env, TIDE_SUPERVISOR_LAST_EXIT: undefined }, cwd: DIR, logFile: join(DIR, "worker.log") });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(marker) && readFileSync(marker, "utf8").trim().split("\n").length >= 2)) {
    assert.ok(Date.now() < deadline, `not restarted: ${events.join("; ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const [first, second] = readFileSync(marker, "utf8").trim().split("\n");
  assert.equal(first, "first start");
  assert.match(second ?? "", /^The worker process \(pid \d+\) was killed by SIGKILL at .*; the supervisor restarted it\.$/);
  assert.match(events[0] ?? "", /worker was killed by SIGKILL; restarting in \d+ ms/);
  const pid = supervisor.pid("worker")!;
  await supervisor.stopAll();
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});
