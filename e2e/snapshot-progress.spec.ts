// The Job page while a chunked snapshot runs: key ranges read of all, tables,
// rows and bytes per second and the time left, then the table streaming with
// the lag figures (emit and fetch lag) beside the chart.
import { expect, test } from "@playwright/test";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import { signIn } from "./console";
import { e2eStack, sourceRoot, type E2EStack } from "./stack";

const ARTIFACTS = join(import.meta.dirname, "artifacts");
const TABLE = "progressdb.events";
const ROWS = 600_000;
let stack: E2EStack;
let source: Connection;

test.beforeAll(async () => {
  stack = e2eStack();
  source = await sourceRoot(stack);
  await source.query(`
    CREATE DATABASE IF NOT EXISTS progressdb;
    DROP TABLE IF EXISTS progressdb.events;
    CREATE TABLE progressdb.events (id BIGINT PRIMARY KEY, kind VARCHAR(20) NOT NULL, at DATETIME(6) NOT NULL, amount DECIMAL(12,2) NOT NULL);
    INSERT INTO progressdb.events SELECT seq, ELT(1 + seq % 3, 'view', 'cart', 'buy'), TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, seq % 1000 / 10
      FROM progressdb.seq_1_to_${ROWS};
  `);
});

test.afterAll(async () => {
  await source?.end();
});

test("a running snapshot shows key ranges, tables, rates and time left; then the table streams", async ({ page }) => {
  await signIn(page, stack);
  const response = await page.request.post("/api/trpc/jobs.create", {
    data: {
      spec: {
        source: {
          type: "mysql",
          hostname: "127.0.0.1",
          port: stack.source.port,
          username: stack.source.user,
          password: stack.source.password,
          tables: "progressdb\\.events",
          // Small ranges, so the snapshot lasts long enough to be watched.
          "scan.incremental.snapshot.chunk.size": 1000,
        },
        pipeline: { name: "snapshot-progress" },
      },
    },
  });
  const body = await response.text();
  expect(response.ok(), body).toBe(true);
  const jobId = (JSON.parse(body) as { result: { data: { id: number } } }).result.data.id;
  await page.goto(`/jobs/${jobId}`);

  const panel = page.getByTestId("snapshot-progress");
  await expect(panel).toBeVisible({ timeout: 60_000 });
  const chunks = page.getByTestId("snapshot-chunks");
  await expect(chunks).toHaveText(/^[\d,]+ \/ [\d,]+ key ranges$/);
  const [done, total] = ((await chunks.textContent()) ?? "").match(/[\d,]+/g)!.map((n) => Number(n.replace(/,/g, "")));
  expect(total).toBeGreaterThanOrEqual(ROWS / 1000);
  expect(done).toBeLessThan(total!);
  await expect(page.getByTestId("snapshot-tables")).toHaveText("0 / 1");
  // Rates and the estimate come from samples a second apart.
  await expect(page.getByTestId("snapshot-rows-per-sec")).toHaveText(/^[1-9][\d,]* ?\/s$/, { timeout: 10_000 });
  await expect(page.getByTestId("snapshot-bytes-per-sec")).toHaveText(/(KiB|MiB)\/s$/);
  await expect(page.getByTestId("snapshot-eta")).toHaveText(/^about /, { timeout: 20_000 });
  await expect(page.getByTestId(`job-table-phase-${TABLE}`)).toHaveText(/snapshotting/i);
  // The table's row shows the ranges its checkpoints recorded (every second, even with the source idle).
  await expect(page.getByTestId(`job-table-chunks-${TABLE}`)).toHaveText(/^[1-9][\d,]* \/ [\d,]+ key ranges$/, { timeout: 10_000 });
  await page.screenshot({ path: join(ARTIFACTS, "snapshot-progress.png"), fullPage: true });

  // Then the table streams, the snapshot block goes, and the lag figures stay.
  await expect(page.getByTestId(`job-table-phase-${TABLE}`)).toHaveText(/streaming/i, { timeout: 120_000 });
  await expect(panel).toHaveCount(0, { timeout: 20_000 });
  await expect(page.getByTestId(`job-table-rows-${TABLE}`)).toContainText("600,000");
  await expect(page.getByTestId("current-lag")).toHaveText(/\d+(\.\d+)? (ms|s)/);
  await expect(page.getByTestId("current-fetch-lag")).toHaveText(/\d+(\.\d+)? (ms|s)/);
  await expect(page.getByTestId("current-binlog-bytes")).toHaveText(/B\/s$/);
});
