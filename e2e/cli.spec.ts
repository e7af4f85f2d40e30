// The CLI against the running stack: a Flink-CDC-style pipeline file applied,
// jobs listed (JSON and table), paused and resumed, SQL in every output format, and the
// schema-change history with its --kind/--outcome filters.
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

/** Runs the CLI expecting it to fail: its exit code and what it wrote to stderr. */
async function tideFails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await tide(args);
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? "" };
  }
  throw new Error(`tide ${args.join(" ")} succeeded`);
}

test("schema-changes list filters by --kind and --outcome and refuses values it does not know; jobs list as a table", async () => {
  const stack = e2eStack();
  const source = await sourceRoot(stack);
  await source.query(`CREATE DATABASE IF NOT EXISTS clihist;
    DROP TABLE IF EXISTS clihist.notes;
    CREATE TABLE clihist.notes (id INT PRIMARY KEY, body VARCHAR(50) NOT NULL) PARTITION BY HASH (id) PARTITIONS 2;
    INSERT INTO clihist.notes VALUES (1, 'one'), (2, 'two'), (3, 'three');`);
  const file = join(E2E_DIR, "clihist.yaml");
  writeFileSync(
    file,
    `source:
  type: mysql
  hostname: 127.0.0.1
  port: ${stack.source.port}
  username: ${stack.source.user}
  password: \${CLIHIST_DB_PASSWORD}
  tables: clihist\\.notes
pipeline:
  name: clihist-sync
`,
  );
  await tide(["pipeline", "apply", file], { CLIHIST_DB_PASSWORD: stack.source.password });
  await expect
    .poll(async () => (JSON.parse(await tide(["jobs", "list", "--format", "json"])) as { name: string; actualState: string }[]).find((j) => j.name === "clihist-sync")?.actualState, { timeout: 60_000 })
    .toBe("streaming");

  const list = (await tide(["jobs", "list", "--format", "table"])).trimEnd().split("\n");
  expect(list[0]).toMatch(/^name\s+state\s+desired\s+tables\s+rows copied\s+last error$/);
  expect(list[1]).toMatch(/^-+(\s+-+){5}$/);
  expect(list.find((l) => l.startsWith("clihist-sync "))).toMatch(/^clihist-sync\s+streaming\s+running\s+1\s+3$/);

  // One change of each outcome: applied, ignored (no shape change), failed (not understood).
  await source.query("ALTER TABLE clihist.notes ADD COLUMN tag VARCHAR(10) NULL");
  await source.query("ALTER TABLE clihist.notes ADD INDEX by_body (body)");
  await source.query("ALTER TABLE clihist.notes TRUNCATE PARTITION p0");
  await source.end();
  const history = async (...filters: string[]) =>
    (JSON.parse(await tide(["schema-changes", "list", "--job", "clihist-sync", ...filters, "--format", "json"])) as { kind: string; outcome: string }[]).map(
      (c) => `${c.kind}:${c.outcome}`,
    );
  await expect.poll(() => history(), { timeout: 20_000 }).toEqual(["unknown:failed", "ignored:ignored", "add_column:applied"]);

  expect(await history("--kind", "unknown")).toEqual(["unknown:failed"]);
  expect(await history("--outcome", "failed")).toEqual(["unknown:failed"]);
  expect(await history("--outcome=ignored")).toEqual(["ignored:ignored"]);
  expect(await history("--kind", "add_column", "--outcome", "applied")).toEqual(["add_column:applied"]);
  expect(await history("--kind", "add_column", "--outcome", "failed")).toEqual([]);
  expect(await history("--kind", "drop_table")).toEqual([]);
  const table = (await tide(["schema-changes", "list", "--job", "clihist-sync", "--kind", "unknown"])).trimEnd().split("\n");
  expect(table[0]).toMatch(/^time\s+job\s+table\s+change\s+outcome\s+ms\s+details\s+statement$/);
  expect(table.slice(2)).toHaveLength(1);
  expect(table[2]).toMatch(/clihist-sync\s+clihist\.notes\s+unknown\s+failed\s+[\d.]+\s+not understood: TRUNCATE PARTITION/);

  // Values it does not know are refused, naming the accepted ones; the CLI exits 1 on every error.
  const badKind = await tideFails(["schema-changes", "list", "--kind", "add_colum"]);
  expect(badKind.code).toBe(1);
  expect(badKind.stderr.trim()).toBe(
    'tide: --kind must be one of add_column, drop_column, rename_column, modify_column, rename_table, truncate_table, create_table, drop_table, ignored, unknown, not "add_colum"',
  );
  const badOutcome = await tideFails(["schema-changes", "list", "--outcome", "maybe"]);
  expect(badOutcome.code).toBe(1);
  expect(badOutcome.stderr.trim()).toBe('tide: --outcome must be applied, ignored or failed, not "maybe"');
  const noValue = await tideFails(["schema-changes", "list", "--kind"]);
  expect(noValue.code).toBe(1);
  expect(noValue.stderr.trim()).toBe("tide: --kind needs a value");
  const unknownFlag = await tideFails(["schema-changes", "list", "--outcomes", "failed"]);
  expect(unknownFlag.code).toBe(1);
  expect(unknownFlag.stderr).toContain('tide: schema-changes list does not take "--outcomes"');
});
