// The schema-change history in chromium: a job streams histdb.people, a column
// is renamed on the source, and /schema-changes shows the rename with the
// before → after column diff.
import { expect, test, type Page } from "@playwright/test";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import { createJob, signIn } from "./console";
import { e2eStack, sourceRoot, type E2EStack } from "./stack";

const ARTIFACTS = join(import.meta.dirname, "artifacts");
let stack: E2EStack;
let source: Connection;

test.beforeAll(async () => {
  stack = e2eStack();
  source = await sourceRoot(stack);
  await source.query(`
    CREATE DATABASE IF NOT EXISTS histdb;
    DROP TABLE IF EXISTS histdb.people;
    CREATE TABLE histdb.people (id INT PRIMARY KEY, name VARCHAR(40));
    INSERT INTO histdb.people VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Linus');
  `);
});

test.afterAll(async () => {
  await source?.end();
});

interface JobRow {
  id: number;
  name: string;
  actualState: string;
  lastError: string | null;
}

async function listJobs(page: Page): Promise<JobRow[]> {
  const response = await page.request.get("/api/trpc/jobs.list");
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { result: { data: JobRow[] } }).result.data;
}

test("a renamed source column shows up in the schema-change history with its column diff", async ({ page }) => {
  await signIn(page, stack);

  await createJob(page, stack.source, { name: "hist", tables: "histdb\\.people" });

  let job: JobRow | undefined;
  await expect
    .poll(
      async () => {
        job = (await listJobs(page)).find((j) => j.name === "hist");
        return job ? `${job.actualState}${job.lastError ? `: ${job.lastError}` : ""}` : "missing";
      },
      { timeout: 60_000, intervals: [500] },
    )
    .toBe("streaming");

  await source.query("ALTER TABLE histdb.people RENAME COLUMN name TO full_name");

  await page.getByTestId("nav-schema-changes").click();
  await expect(page).toHaveURL(/\/schema-changes/);
  const entry = page.locator('[data-testid^="schema-change-"][data-kind="rename_column"]').first();
  await expect(entry).toBeVisible({ timeout: 20_000 });
  await expect(entry).toHaveAttribute("data-outcome", "applied");
  const id = ((await entry.getAttribute("data-testid")) ?? "").replace("schema-change-", "");
  expect(id).toMatch(/^\d+$/);

  const before = page.getByTestId(`columns-before-${id}`);
  const after = page.getByTestId(`columns-after-${id}`);
  await expect(before).toContainText("name");
  await expect(before).not.toContainText("full_name");
  await expect(after).toContainText("full_name");
  await expect(before.locator('[data-mark="renamed"]')).toContainText("name");
  await expect(after.locator('[data-mark="renamed"]')).toContainText("full_name");
  await expect(entry).toContainText("histdb.people");
  await expect(entry).toContainText("hist");
  await expect(entry).toContainText(/RENAME COLUMN/i);
  await expect(entry).toContainText(/\d+(\.\d)? ms/);

  // The job filter narrows the list through the address too.
  await page.goto(`/schema-changes?job=${job!.id}&table=histdb.people`);
  await expect(page.getByTestId(`schema-change-${id}`)).toBeVisible();
  await expect(page.getByTestId("filter-table")).toHaveValue("histdb.people");
  await page.getByTestId("filter-outcome").selectOption("failed");
  await expect(page.getByTestId("schema-changes-empty")).toBeVisible();
  await page.getByTestId("filter-outcome").selectOption("");
  await expect(page.getByTestId(`schema-change-${id}`)).toBeVisible();

  await page.screenshot({ path: join(ARTIFACTS, "schema-history.png"), fullPage: true });
});
