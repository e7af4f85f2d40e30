// The migrator against a real private mariadbd: it creates the database and every
// table, applies each migration once (also when two processes race), records
// Prisma's checksums, and refuses an edited or half-applied history.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Connection } from "mysql2/promise";
import { LocalMariadb } from "@tide/local-mariadb";
import { migrate, splitStatements } from "../src";
import { parseSchema } from "./schema-drift";

const ROOT = resolve(import.meta.dirname, "../../..");
const MIGRATIONS = resolve(ROOT, "prisma/migrations");
const MIGRATION_NAMES = readdirSync(MIGRATIONS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const SCHEMA_TABLES = [...parseSchema(readFileSync(resolve(ROOT, "prisma/schema.prisma"), "utf8")).tables.values()].sort();
let db: LocalMariadb;

before(async () => {
  db = await LocalMariadb.start({ dataDir: resolve(ROOT, ".test-data/db-migrate"), fresh: true });
});

after(async () => {
  await db?.stop();
});

async function query<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const conn: Connection = await db.connect(database);
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T[];
  } finally {
    await conn.end();
  }
}

const tablesOf = async (database: string) =>
  (await query<{ t: string }>("", "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ", [database])).map((r) => r.t).sort();

test("migrate creates the database and every table, records Prisma's history, and then applies nothing", async () => {
  assert.ok(MIGRATION_NAMES.length > 0);
  assert.deepEqual(await tablesOf("tide"), []);
  const first = await migrate(db.url("tide"));
  assert.deepEqual(first.applied, MIGRATION_NAMES);
  assert.deepEqual(await tablesOf("tide"), [...SCHEMA_TABLES, "_prisma_migrations"].sort());

  const rows = await query<{ migration_name: string; checksum: string; finished_at: string | null; applied_steps_count: number; logs: string | null; rolled_back_at: string | null }>(
    "tide",
    "SELECT * FROM _prisma_migrations ORDER BY migration_name",
  );
  assert.deepEqual(rows.map((r) => r.migration_name), MIGRATION_NAMES);
  for (const row of rows) {
    const sql = readFileSync(join(MIGRATIONS, row.migration_name, "migration.sql"));
    assert.equal(row.checksum, createHash("sha256").update(sql).digest("hex"));
    assert.match(row.finished_at ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(row.applied_steps_count, 1);
    assert.equal(row.rolled_back_at, null);
  }
  const columns = await query<{ c: string; type: string; nullable: string }>(
    "",
    "SELECT COLUMN_NAME AS c, COLUMN_TYPE AS type, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'tide' AND TABLE_NAME = '_prisma_migrations' ORDER BY ORDINAL_POSITION",
  );
  assert.deepEqual(
    columns.map((c) => `${c.c} ${c.type.replace(/^int\(\d+\)/, "int")} ${c.nullable}`),
    ["id varchar(36) NO", "checksum varchar(64) NO", "finished_at datetime(3) YES", "migration_name varchar(255) NO", "logs text YES", "rolled_back_at datetime(3) YES", "started_at datetime(3) NO", "applied_steps_count int unsigned NO"],
  );

  assert.deepEqual((await migrate(db.url("tide"))).applied, []);
  assert.equal((await query("tide", "SELECT * FROM _prisma_migrations")).length, MIGRATION_NAMES.length);
});

test("two concurrent migrate() calls both succeed and only one applies", async () => {
  const results = await Promise.all([migrate(db.url("tide_race")), migrate(db.url("tide_race")), migrate(db.url("tide_race"))]);
  assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, 0, MIGRATION_NAMES.length]);
  assert.equal((await query("tide_race", "SELECT * FROM _prisma_migrations")).length, MIGRATION_NAMES.length);
});

test("an odd database name is quoted", async () => {
  const name = "tide-odd`name";
  await migrate(db.url(encodeURIComponent(name)));
  assert.deepEqual(await tablesOf(name), [...SCHEMA_TABLES, "_prisma_migrations"].sort());
});

test("a tampered checksum makes migrate refuse", async () => {
  const first = MIGRATION_NAMES[0]!;
  const [row] = await query<{ checksum: string }>("tide", "SELECT checksum FROM _prisma_migrations WHERE migration_name = ?", [first]);
  await query("tide", "UPDATE _prisma_migrations SET checksum = REPEAT('0', 64) WHERE migration_name = ?", [first]);
  await assert.rejects(migrate(db.url("tide")), new RegExp(`Migration ${first} was changed after it was applied`));
  await query("tide", "UPDATE _prisma_migrations SET checksum = ? WHERE migration_name = ?", [row!.checksum, first]);
  assert.deepEqual((await migrate(db.url("tide"))).applied, []);
});

test("a failing migration is logged, and later runs refuse until it is repaired", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tide-migrations-"));
  try {
    cpSync(MIGRATIONS, dir, { recursive: true });
    const broken = "29990101000000_broken";
    mkdirSync(join(dir, broken));
    writeFileSync(join(dir, broken, "migration.sql"), "-- CreateTable\nCREATE TABLE `ok_table` (`id` INTEGER NOT NULL, PRIMARY KEY (`id`));\n\nALTER TABLE `no_such_table` ADD COLUMN `x` INTEGER NULL;\n");
    await assert.rejects(migrate(db.url("tide"), { migrationsDir: dir }), /Migration 29990101000000_broken failed: .*no_such_table/);
    const [row] = await query<{ finished_at: string | null; logs: string | null }>("tide", "SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = ?", [broken]);
    assert.equal(row?.finished_at, null);
    assert.match(row?.logs ?? "", /no_such_table/);
    await assert.rejects(migrate(db.url("tide"), { migrationsDir: dir }), /29990101000000_broken started earlier and never finished/);
    await assert.rejects(migrate(db.url("tide")), /never finished/);

    // Repaired by hand: drop what it half did, delete its row, fix the file.
    await query("tide", "DROP TABLE ok_table");
    await query("tide", "DELETE FROM _prisma_migrations WHERE migration_name = ?", [broken]);
    writeFileSync(join(dir, broken, "migration.sql"), "-- CreateTable\nCREATE TABLE `ok_table` (`id` INTEGER NOT NULL, PRIMARY KEY (`id`));\n");
    assert.deepEqual((await migrate(db.url("tide"), { migrationsDir: dir })).applied, [broken]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("statements split at a `;` ending a line, outside quotes and comments", () => {
  assert.deepEqual(splitStatements("-- CreateTable\nCREATE TABLE `a` (`x` INTEGER);\n\n-- AddForeignKey\nALTER TABLE `a` ADD COLUMN `y` INTEGER;"), [
    "CREATE TABLE `a` (`x` INTEGER)",
    "ALTER TABLE `a` ADD COLUMN `y` INTEGER",
  ]);
  assert.deepEqual(splitStatements("INSERT INTO t VALUES ('a;\nb;', \"c;\n\", 'it''s;\n');  -- done;\nSELECT 1;\r\n/* x;\n */SELECT `weird;\n`;"), [
    "INSERT INTO t VALUES ('a;\nb;', \"c;\n\", 'it''s;\n')",
    "SELECT 1",
    "SELECT `weird;\n`",
  ]);
  // A `;` in the middle of a line does not end the statement.
  assert.deepEqual(splitStatements("SELECT 'x' AS a, 1; \nSELECT 2"), ["SELECT 'x' AS a, 1", "SELECT 2"]);
  assert.deepEqual(splitStatements("SELECT 1; SELECT 2;\n"), ["SELECT 1; SELECT 2"]);
  assert.deepEqual(splitStatements("\n-- only a comment\n"), []);
});
