// The job page's verification: a job created through the API syncs a 1000-row
// table; "Verify" compares source and warehouse and the table row shows
// "Equal · 1,000 rows". Also checks the per-table action and the worker status.
import { expect, test } from "@playwright/test";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import { createJob, signIn } from "./console";
import { e2eStack, sourceRoot, type E2EStack } from "./stack";

const ARTIFACTS = join(import.meta.dirname, "artifacts");
const TABLE = "verifydb.accounts";
let stack: E2EStack;
let source: Connection;
let jobId = 0;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  stack = e2eStack();
  source = await sourceRoot(stack);
  await source.query(`
    CREATE DATABASE IF NOT EXISTS verifydb;
    DROP TABLE IF EXISTS verifydb.accounts;
    CREATE TABLE verifydb.accounts (id INT PRIMARY KEY, owner VARCHAR(100) NOT NULL, balance DECIMAL(12,2) NOT NULL);
    INSERT INTO verifydb.accounts SELECT seq, CONCAT('Owner ', seq), seq * 2.5 FROM verifydb.seq_1_to_1000;
  `);
});

test.afterAll(async () => {
  await source?.end();
});

test("Verify compares source and warehouse and shows the table equal", async ({ page }) => {
  await signIn(page, stack);

  // Create the job through the API, with the browser's session cookie.
  jobId = await createJob(page, stack.source, {
    name: "verify-accounts",
    tables: "verifydb\\.accounts",
    route: [{ "source-table": TABLE, "sink-table": "ods.verify_accounts" }],
  });

  await page.goto(`/jobs/${jobId}`);
  await expect(page.getByTestId("job-name")).toHaveText("verify-accounts");
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  await expect(page.getByTestId(`job-table-row-${TABLE}`)).toContainText("1,000");
  // No failure, so neither remedy is offered.
  await expect(page.getByTestId("job-error")).toHaveCount(0);
  await expect(page.getByTestId("job-reconnecting")).toHaveCount(0);

  const cell = page.getByTestId(`verification-${TABLE}`);
  await expect(cell).toHaveAttribute("data-status", "none");

  // The whole job.
  await page.getByTestId("job-verify").click();
  await expect(cell).toHaveAttribute("data-status", /requested|running|equal/);
  await expect(cell).toHaveAttribute("data-status", "equal", { timeout: 60_000 });
  await expect(cell).toContainText("Equal");
  await expect(cell).toContainText("1,000");
  await expect(cell).toHaveAttribute("title", /Finished/);
  const firstTitle = await cell.getAttribute("title");

  // One table, from its row, after a new source row: a new verification that ends
  // equal with 1,001 rows (retried in case it ran before the binlog event arrived).
  await source.query("INSERT INTO verifydb.accounts VALUES (1001, 'Owner 1001', 1.00)");
  await expect(async () => {
    const verified = page.waitForResponse((r) => r.url().includes("jobs.verify") && r.request().method() === "POST");
    await page.getByTestId(`verify-${TABLE}`).click({ timeout: 30_000 });
    expect((await verified).ok()).toBe(true);
    await expect(cell).toContainText("1,001", { timeout: 30_000 });
    await expect(cell).toHaveAttribute("data-status", "equal", { timeout: 1_000 });
  }).toPass({ timeout: 120_000 });
  await expect(cell).toHaveAttribute("title", /Finished/);
  expect(firstTitle).toBeTruthy();

  // The shell's worker status is the recorded one: up, or restarted as often as
  // worker_status says (faults.spec.ts kills the worker earlier in the run), with the live pid.
  const [[recorded]] = (await source.query("SELECT restarts, last_exit_reason FROM tide.worker_status")) as unknown as [
    { restarts: number; last_exit_reason: string | null }[],
  ];
  const health = (await (await fetch(`${stack.env.TIDE_WORKER_URL}/healthz`)).json()) as { pid: number };
  const status = page.getByTestId("worker-status");
  await expect(status).toHaveAttribute("data-restarts", String(recorded!.restarts));
  if (recorded!.restarts === 0) {
    await expect(status).toContainText(/^Worker up/);
    await expect(page.getByTestId("worker-status-reason")).toHaveCount(0);
  } else {
    await expect(status).toContainText(`Worker restarted ${recorded!.restarts} ${recorded!.restarts === 1 ? "time" : "times"}`);
    await expect(page.getByTestId("worker-status-reason")).toHaveText(recorded!.last_exit_reason ?? "unknown reason");
  }
  await expect(page.getByTestId("worker-status-started")).toContainText(/^Last start \d\d:\d\d:\d\d/);
  await expect(page.getByTestId("worker-status-started")).toContainText(`pid ${health.pid}`);

  await page.screenshot({ path: join(ARTIFACTS, "job-verify.png"), fullPage: true });
});

// The states below are written straight into Tide's metadata database (the
// `tide` schema on the same server) to show the UI for them: a verification
// that found differences, and a failed job with each remedy. The remedies
// themselves go through the real API and the worker.
test("a different verification lists its key ranges; a failed job offers retry or re-snapshot, and stop, never pause", async ({ page }) => {
  test.skip(jobId === 0, "needs the job of the first test");
  await signIn(page, stack);
  await page.goto(`/jobs/${jobId}`);
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });

  const differences = [
    { from: "1", to: "251", sourceRows: 250, warehouseRows: 248, sampleKeys: ["17", "204"] },
    { from: "751", to: "1002", sourceRows: 251, warehouseRows: 252, sampleKeys: ["1500"] },
  ];
  await source.query(
    `INSERT INTO tide.verifications (job_id, source_database, source_table, status, source_rows, warehouse_rows, chunks_done, chunks_total, differences, message, requested_at, finished_at)
     VALUES (?, 'verifydb', 'accounts', 'different', 1001, 1002, 4, 4, ?, '3 rows differ in 2 of 4 key ranges', NOW(3), NOW(3))`,
    [jobId, JSON.stringify(differences)],
  );
  const cell = page.getByTestId(`verification-${TABLE}`);
  await expect(cell).toHaveAttribute("data-status", "different", { timeout: 10_000 });
  await expect(cell).toContainText("Different");
  await expect(cell).toContainText("3 rows differ");
  await expect(page.getByTestId(`verification-diffs-${TABLE}`)).toHaveCount(0);
  await page.getByTestId(`verification-diffs-toggle-${TABLE}`).click();
  const diffs = page.getByTestId(`verification-diffs-${TABLE}`);
  await expect(diffs).toContainText("[1, 251)");
  await expect(diffs).toContainText("[751, 1002)");
  await expect(diffs).toContainText("17, 204");

  // A failure without a remedy of its own: Retry resumes the job.
  await source.query("UPDATE tide.sync_jobs SET actual_state = 'failed', last_error = 'The warehouse could not be written: disk full', last_error_at = NOW(3) WHERE id = ?", [jobId]);
  await expect(page.getByTestId("job-state")).toHaveText("failed", { timeout: 10_000 });
  await expect(page.getByTestId("job-error")).toContainText("disk full");
  await expect(page.getByTestId("job-resnapshot")).toHaveCount(0);
  // Nothing runs, so there is nothing to pause; the job can be stopped instead.
  await expect(page.getByTestId("job-pause")).toHaveCount(0);
  await expect(page.getByTestId("job-stop")).toBeVisible();
  await page.screenshot({ path: join(ARTIFACTS, "job-failed-retry.png"), fullPage: true });
  await page.getByTestId("job-retry").click();
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  await expect(page.getByTestId("job-error")).toHaveCount(0);
  await expect(page.getByTestId("job-pause")).toBeVisible();
  await expect(page.getByTestId("job-stop")).toHaveCount(0);

  // A purged binlog: the remedy is a re-snapshot, after an inline confirmation.
  await source.query(
    "UPDATE tide.sync_jobs SET actual_state = 'failed', last_error = ?, last_error_at = NOW(3) WHERE id = ?",
    ["The source no longer has the binlog at mysql-bin.000001:4 (Could not find first log file name in binary log index file). The binlog was purged past this job's saved position, so changes are missing: re-snapshot the job's tables to continue.", jobId],
  );
  await expect(page.getByTestId("job-state")).toHaveText("failed", { timeout: 10_000 });
  await expect(page.getByTestId("job-retry")).toHaveCount(0);
  await expect(page.getByTestId("job-pause")).toHaveCount(0);
  await expect(page.getByTestId("job-stop")).toBeVisible();
  await page.getByTestId("job-resnapshot").click();
  await expect(page.getByTestId("job-resnapshot-confirm")).toBeVisible();
  await page.getByTestId("job-resnapshot-cancel").click();
  await expect(page.getByTestId("job-resnapshot-confirm")).toHaveCount(0);
  await page.getByTestId("job-resnapshot").click();
  await page.screenshot({ path: join(ARTIFACTS, "job-failed-resnapshot.png"), fullPage: true });
  await page.getByTestId("job-resnapshot-confirm-yes").click();
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  await expect(page.getByTestId("job-error")).toHaveCount(0);
  await expect(page.getByTestId(`job-table-rows-${TABLE}`)).toContainText("1,001");

  // And the copy is whole again.
  await page.getByTestId("job-verify").click();
  await expect(cell).toHaveAttribute("data-status", "equal", { timeout: 60_000 });
  await expect(cell).toContainText("1,001");

  // Stop on a failed job: it is stopped (no longer retried), and Resume starts it again.
  await source.query("UPDATE tide.sync_jobs SET actual_state = 'failed', last_error = 'The warehouse could not be written: disk full', last_error_at = NOW(3) WHERE id = ?", [jobId]);
  await expect(page.getByTestId("job-state")).toHaveText("failed", { timeout: 10_000 });
  await page.getByTestId("job-stop").click();
  await expect(page.getByTestId("job-state")).toHaveText("stopped", { timeout: 20_000 });
  await expect(page.getByTestId("job-pause")).toHaveCount(0);
  await page.getByTestId("job-resume").click();
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
});
