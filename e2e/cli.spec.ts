// The CLI against the running stack: a Flink-CDC-style pipeline file applied,
// jobs listed, paused and resumed, and SQL in every output format.
import { expect, test } from "@playwright/test";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { E2E_DIR, e2eStack, sourceRoot } from "./stack";

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, "..");

async function tide(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const stack = e2eStack();
  const { stdout } = await run(process.execPath, ["--import", "tsx", join(REPO, "apps/cli/src/main.ts"), ...args], {
    cwd: REPO,
    env: { ...process.env, TIDE_URL: stack.webUrl, TIDE_USER: stack.admin.username, TIDE_PASSWORD: stack.admin.password, ...extraEnv },
  });
  return stdout;
}

test("pipeline apply, jobs list/show/pause/resume and sql from the terminal", async () => {
  const stack = e2eStack();
  const source = await sourceRoot(stack);
  await source.query(`CREATE DATABASE IF NOT EXISTS inventory;
    CREATE TABLE IF NOT EXISTS inventory.stock (sku VARCHAR(20) PRIMARY KEY, qty INT NOT NULL);
    INSERT IGNORE INTO inventory.stock VALUES ('A-1', 5), ('B-2', 7), ('C-3', 0);`);
  await source.end();
  const file = join(E2E_DIR, "inventory.yaml");
  writeFileSync(
    file,
    `source:
  type: mysql
  hostname: 127.0.0.1
  port: ${stack.source.port}
  username: ${stack.source.user}
  password: \${INVENTORY_DB_PASSWORD}
  tables: inventory\\.stock
route:
  - source-table: inventory\\.stock
    sink-table: dwd.stock
pipeline:
  name: inventory-sync
`,
  );
  const applied = JSON.parse(await tide(["pipeline", "apply", file, "--format", "json"], { INVENTORY_DB_PASSWORD: stack.source.password }));
  expect(applied).toMatchObject({ name: "inventory-sync", created: true });

  await expect
    .poll(async () => (JSON.parse(await tide(["jobs", "list", "--format", "json"])) as { name: string; actualState: string }[]).find((j) => j.name === "inventory-sync")?.actualState, { timeout: 60_000 })
    .toBe("streaming");
  expect(await tide(["jobs", "show", "inventory-sync"])).toMatch(/inventory\.stock\s+dwd\.stock\s+unique\s+streaming\s+3/);

  await expect.poll(async () => (await tide(["sql", "SELECT sku, qty FROM dwd.stock ORDER BY sku", "--format", "csv"])).trim(), { timeout: 10_000 })
    .toBe("sku,qty\nA-1,5\nB-2,7\nC-3,0");
  const json = JSON.parse(await tide(["sql", "SELECT count(*) AS n FROM dwd.stock", "--format", "json"]));
  expect(json.rows).toEqual([["3"]]);
  expect(await tide(["sql", "SELECT count(*) AS n FROM dwd.stock"])).toMatch(/^n\s*\n-+\s*\n3\s*\n\(1 row, \d+ ms\)/);

  expect(await tide(["jobs", "pause", "inventory-sync"])).toContain("paused");
  await expect.poll(async () => JSON.parse(await tide(["jobs", "list", "--format", "json"])).find((j: { name: string }) => j.name === "inventory-sync")?.actualState, { timeout: 20_000 }).toBe("paused");
  expect(await tide(["jobs", "resume", "inventory-sync"])).toContain("running");

  // A source schema change is followed and shows in the history.
  const root = await sourceRoot(stack);
  await root.query("ALTER TABLE inventory.stock ADD COLUMN location VARCHAR(20) DEFAULT 'main'");
  await root.end();
  await expect
    .poll(async () => (JSON.parse(await tide(["schema-changes", "list", "--job", "inventory-sync", "--format", "json"])) as { kind: string; outcome: string }[]).map((c) => `${c.kind}:${c.outcome}`), { timeout: 15_000 })
    .toEqual(["add_column:applied"]);
  await expect.poll(async () => (await tide(["sql", "SELECT location FROM dwd.stock WHERE sku = 'A-1'", "--format", "csv"])).trim(), { timeout: 10_000 }).toBe("location\nmain");

  const exported = await tide(["pipeline", "export", "inventory-sync"]);
  expect(exported).toContain("sink-table: dwd.stock");
  expect(exported).not.toContain(stack.source.password);

  await expect(tide(["sql", "DELETE FROM dwd.stock"])).rejects.toThrow(/Only queries/);
  await expect(tide(["jobs", "show", "nope"])).rejects.toThrow(/no job named "nope"/);
});
