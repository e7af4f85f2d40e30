// The whole product in chromium: sign in, set a job up with the wizard against
// a private source database, see the snapshot on the SQL page, watch inserts,
// updates and deletes arrive within 3 s, and see the lag chart draw.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import { signIn } from "./console";
import { E2E_DIR, e2eStack, sourceRoot, type E2EStack } from "./stack";

const ARTIFACTS = join(import.meta.dirname, "artifacts");
let stack: E2EStack;
let source: Connection;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  stack = e2eStack();
  source = await sourceRoot(stack);
  await source.query(`
    CREATE DATABASE IF NOT EXISTS crm;
    CREATE TABLE crm.customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, balance DECIMAL(12,2) NOT NULL, updated_at DATETIME(6) NOT NULL);
    INSERT INTO crm.customers SELECT seq, CONCAT('Customer ', seq), seq * 1.25, '2026-01-01 00:00:00.000001' FROM crm.seq_1_to_500;
    CREATE TABLE crm.audit_log (msg VARCHAR(100) NOT NULL, at DATETIME NOT NULL);
    INSERT INTO crm.audit_log VALUES ('created', '2026-01-01 00:00:00'), ('updated', '2026-01-02 00:00:00');
  `);
});

test.afterAll(async () => {
  await source?.end();
});

async function fillConnection(page: Page, overrides: { host?: string; password?: string } = {}): Promise<void> {
  await page.getByTestId("wizard-host").fill(overrides.host ?? "127.0.0.1");
  await page.getByTestId("wizard-port").fill(String(stack.source.port));
  await page.getByTestId("wizard-username").fill(stack.source.user);
  await page.getByTestId("wizard-password").fill(overrides.password ?? stack.source.password);
}

/** Runs a query on the SQL page until its first cell reads `expected`; returns how long that took. */
async function waitForCell(page: Page, sql: string, expected: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await page.getByTestId("sql-editor").fill(sql);
  for (;;) {
    await page.getByTestId("sql-run").click();
    await expect(page.getByTestId("sql-run")).toBeEnabled();
    await expect(page.getByTestId("sql-elapsed")).toBeVisible();
    const cell = page.getByTestId("sql-result").locator("tbody tr").first().locator("td:not(.rownum)").first();
    const text = (await cell.textContent({ timeout: 2_000 }).catch(() => null))?.trim();
    if (text === expected) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`"${sql}" gave ${text}, not ${expected}, after ${timeoutMs} ms`);
    await page.waitForTimeout(150);
  }
}

test("bad wizard input gets field-level messages, never a stack trace", async ({ page }) => {
  await signIn(page, stack);
  await page.getByTestId("nav-jobs").click();
  await page.getByTestId("new-job").click();
  await page.getByTestId("wizard-name").fill("bad-input");

  await fillConnection(page, { host: "no-such-host.invalid" });
  await page.getByTestId("wizard-test").click();
  await expect(page.getByTestId("field-error-source.hostname")).toContainText("no-such-host.invalid");

  await fillConnection(page, { password: "wrong-password" });
  await page.getByTestId("wizard-test").click();
  await expect(page.getByTestId("field-error-source.password")).toContainText(/refused/);

  await fillConnection(page);
  await page.getByTestId("wizard-test").click();
  await expect(page.getByTestId("check-binlog_format")).toHaveAttribute("data-ok", "true");
  await page.getByTestId("wizard-next").click();

  // No table selected: the wizard does not go on.
  await expect(page.getByTestId("table-checkbox-crm.customers")).toBeVisible();
  await expect(page.getByTestId("wizard-next")).toBeDisabled();
  // A table without a key asks for a choice.
  await page.getByTestId("table-checkbox-crm.audit_log").check();
  await expect(page.getByTestId("table-nokey-crm.audit_log")).toBeVisible();
  await expect(page.locator("body")).not.toContainText(/\bat .*\.(ts|js):\d+/);
});

test("a job created in the wizard syncs the snapshot, then every change within 3 s", async ({ page }) => {
  const apiBodies: string[] = [];
  page.on("response", async (response) => {
    if (response.url().includes("/api/trpc") && !response.url().includes("metrics")) apiBodies.push(await response.text().catch(() => ""));
  });
  await signIn(page, stack);
  await page.goto("/jobs/new");
  await page.getByTestId("wizard-name").fill("crm-sync");
  await fillConnection(page);
  await page.getByTestId("wizard-test").click();
  await expect(page.getByTestId("check-log_bin")).toHaveAttribute("data-ok", "true");
  await page.getByTestId("wizard-next").click();

  await page.getByTestId("table-search").fill("customers");
  await page.getByTestId("table-checkbox-crm.customers").check();
  await page.getByTestId("wizard-next").click();
  await expect(page.getByTestId("target-crm.customers")).toHaveValue("ods.customers");
  await page.getByTestId("wizard-next").click();
  const yaml = await page.getByTestId("wizard-yaml").textContent();
  expect(yaml).toContain("crm\\.customers");
  expect(yaml).not.toContain(stack.source.password);
  await page.getByTestId("wizard-create").click();

  await expect(page).toHaveURL(/\/jobs\/\d+/);
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  await expect(page.getByTestId("job-table-row-crm.customers")).toContainText("500");

  await page.getByTestId("nav-sql").click();
  await waitForCell(page, "SELECT count(*) FROM ods.customers", "500", 10_000);

  await source.query("INSERT INTO crm.customers VALUES (9001, 'New customer', 10.00, NOW(6))");
  const insertMs = await waitForCell(page, "SELECT name FROM ods.customers WHERE id = 9001", "New customer", 3_000);
  await source.query("UPDATE crm.customers SET name = 'Renamed customer' WHERE id = 9001");
  const updateMs = await waitForCell(page, "SELECT name FROM ods.customers WHERE id = 9001", "Renamed customer", 3_000);
  await source.query("DELETE FROM crm.customers WHERE id = 9001");
  const deleteMs = await waitForCell(page, "SELECT count(*) FROM ods.customers WHERE id = 9001", "0", 3_000);
  console.log(`change visible in the warehouse after: insert ${insertMs} ms, update ${updateMs} ms, delete ${deleteMs} ms`);

  // The snapshot rows themselves, several columns of them, cell by cell against the source.
  const [expected] = (await source.query(
    "SELECT id, name, balance, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') AS updated_at FROM crm.customers ORDER BY id LIMIT 8",
  )) as unknown as [{ id: number; name: string; balance: string; updated_at: string }[]];
  await page.getByTestId("sql-editor").fill("SELECT id, name, balance, updated_at FROM ods.customers ORDER BY id LIMIT 8");
  await page.getByTestId("sql-run").click();
  await expect(page.getByTestId("sql-elapsed")).toHaveText(/^8 rows in \d+ ms/);
  const grid = page.getByTestId("sql-result");
  await expect(grid.locator("thead th")).toHaveText(["#", /^id/, /^name/, /^balance/, /^updated_at/]);
  const rows = grid.locator("tbody tr");
  await expect(rows).toHaveCount(8);
  for (const [i, want] of expected.entries()) {
    const cells = rows.nth(i).locator("td:not(.rownum)");
    await expect(cells.nth(0)).toHaveText(String(want.id));
    await expect(cells.nth(1)).toHaveText(want.name);
    expect(Number(await cells.nth(2).textContent())).toBe(Number(want.balance));
    // DuckDB prints the timestamp its own way; the digits must be the source's.
    expect((await cells.nth(3).textContent())?.replace(/\D/g, "")).toBe(want.updated_at.replace(/\D/g, ""));
  }
  await page.screenshot({ path: join(ARTIFACTS, "sql-page.png"), fullPage: true });

  // Keep the source busy so the chart has something to draw.
  const writer = setInterval(() => {
    void source.query("UPDATE crm.customers SET balance = balance + 1 WHERE id = ?", [1 + Math.floor(Math.random() * 500)]).catch(() => undefined);
  }, 100);
  try {
    await page.goBack();
    await page.getByTestId("nav-jobs").click();
    await page.getByRole("link", { name: "crm-sync" }).click();
    const chart = page.getByTestId("lag-chart");
    const curve = chart.locator("path.recharts-curve").first();
    // Points on the drawn lag line: one path command per point after the first.
    const pointsDrawn = async () => ((await curve.getAttribute("d"))?.match(/[MLC]/g) ?? []).length;
    const liveSamples = async () => Number(await chart.getAttribute("data-live-samples"));
    await expect(curve).toHaveAttribute("d", /\d/, { timeout: 15_000 });
    await expect.poll(liveSamples, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const [samplesBefore, pointsBefore] = [await liveSamples(), await pointsDrawn()];
    // A point at least every 2 s over the subscription: 4.5 s bring two more, and the line grows with them.
    await page.waitForTimeout(4_500);
    const [samplesAfter, pointsAfter] = [await liveSamples(), await pointsDrawn()];
    console.log(`lag chart: ${samplesAfter - samplesBefore} live samples in 4.5 s; points drawn ${pointsBefore} -> ${pointsAfter}`);
    expect(samplesAfter - samplesBefore).toBeGreaterThanOrEqual(2);
    expect(pointsAfter).toBeGreaterThan(pointsBefore);
    expect(pointsAfter).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(ARTIFACTS, "job-page.png"), fullPage: true });
  } finally {
    clearInterval(writer);
  }

  for (const body of apiBodies) expect(body).not.toContain(stack.source.password);
  for (const log of readdirSync(join(E2E_DIR, "logs"))) {
    expect(readFileSync(join(E2E_DIR, "logs", log), "utf8")).not.toContain(stack.source.password);
  }
});
