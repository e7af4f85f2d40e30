// Browser-side helpers the newer specs share: sign in, and drive the API with
// the browser's session cookie (the same calls the console's pages make).
import { expect, type Page } from "@playwright/test";
import type { E2EStack } from "./stack";

export async function signIn(page: Page, stack: E2EStack): Promise<void> {
  await page.goto("/login");
  await page.getByTestId("login-username").fill(stack.admin.username);
  await page.getByTestId("login-password").fill(stack.admin.password);
  await page.getByTestId("login-submit").click();
  await expect(page).toHaveURL(/\/jobs/);
}

export interface JobSource {
  port: number;
  user: string;
  password: string;
}

/** Creates (and starts) a job through jobs.create; returns its id. */
export async function createJob(
  page: Page,
  source: JobSource,
  spec: { name: string; tables: string; route?: { "source-table": string; "sink-table": string }[] },
): Promise<number> {
  const response = await page.request.post("/api/trpc/jobs.create", {
    data: {
      spec: {
        source: { type: "mysql", hostname: "127.0.0.1", port: source.port, username: source.user, password: source.password, tables: spec.tables },
        ...(spec.route ? { route: spec.route } : {}),
        pipeline: { name: spec.name },
      },
    },
  });
  const body = await response.text();
  expect(response.ok(), body).toBe(true);
  const id = (JSON.parse(body) as { result: { data: { id: number } } }).result.data.id;
  expect(id).toBeGreaterThan(0);
  return id;
}

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

/** A warehouse query through warehouse.query, as the SQL page runs it. */
export async function warehouseQuery(page: Page, sql: string): Promise<QueryResult> {
  const response = await page.request.post("/api/trpc/warehouse.query", { data: { sql } });
  const body = await response.text();
  expect(response.ok(), body).toBe(true);
  return (JSON.parse(body) as { result: { data: QueryResult } }).result.data;
}

export interface JobState {
  actualState: string;
  lastError: string | null;
}

export async function jobState(page: Page, id: number): Promise<JobState> {
  const response = await page.request.get(`/api/trpc/jobs.get?input=${encodeURIComponent(JSON.stringify({ id }))}`);
  const body = await response.text();
  expect(response.ok(), body).toBe(true);
  return (JSON.parse(body) as { result: { data: JobState } }).result.data;
}
