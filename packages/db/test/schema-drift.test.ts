// prisma/schema.prisma and the hand-written migrations must agree: after
// migrate, every model's table, columns (type, nullability, defaults), keys,
// indexes and foreign keys match, and the database has nothing more. Edited
// copies of the schema text (never the real file) prove each kind of drift is caught.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Connection } from "mysql2/promise";
import { LocalMariadb } from "@tide/local-mariadb";
import { migrate } from "../src";
import { findDrift, parseSchema } from "./schema-drift";

const ROOT = resolve(import.meta.dirname, "../../..");
const SCHEMA = readFileSync(resolve(ROOT, "prisma/schema.prisma"), "utf8");
let db: LocalMariadb;
let conn: Connection;

before(async () => {
  db = await LocalMariadb.start({ dataDir: resolve(ROOT, ".test-data/db-drift"), fresh: true });
  await migrate(db.url("tide"));
  conn = await db.connect("tide");
});

after(async () => {
  await conn?.end();
  await db?.stop();
});

function edit(from: string, to: string): string {
  assert.ok(SCHEMA.includes(from), `schema.prisma no longer contains ${JSON.stringify(from)}; update this test`);
  const changed = SCHEMA.replace(from, to);
  assert.notEqual(changed, SCHEMA);
  return changed;
}

test("the parser sees every model with its columns, keys and relations", () => {
  const schema = parseSchema(SCHEMA);
  assert.ok(schema.tables.size >= 10);
  assert.equal(schema.tables.get("User"), "users");
  const lastError = schema.columns.find((c) => c.table === "sync_jobs" && c.column === "last_error");
  assert.deepEqual(lastError, { model: "SyncJob", field: "lastError", table: "sync_jobs", column: "last_error", type: "text", nullable: true, autoincrement: false, default: undefined });
  assert.ok(!schema.columns.some((c) => c.field === "sessions" || c.field === "user"), "relation fields are not columns");
  assert.ok(schema.indexes.some((i) => i.name === "sync_job_tables_job_id_source_database_source_table_key" && i.unique));
  assert.deepEqual(
    schema.foreignKeys.find((f) => f.table === "sync_jobs"),
    { model: "SyncJob", table: "sync_jobs", name: "sync_jobs_source_id_fkey", columns: ["source_id"], referencedTable: "source_connections", referencedColumns: ["id"], onDelete: "RESTRICT", onUpdate: "CASCADE" },
  );
});

test("schema.prisma and the migrations agree", async () => {
  assert.deepEqual(await findDrift(conn, "tide", SCHEMA), []);
});

test("a column added to schema.prisma but not to the SQL is caught", async () => {
  const drifted = edit("  role         String    @db.VarChar(16)\n", "  role         String    @db.VarChar(16)\n  email        String?   @map(\"email_address\") @db.VarChar(200)\n");
  assert.deepEqual(await findDrift(conn, "tide", drifted), ["User.email: column users.email_address is missing from the migrations"]);
});

test("type, nullability, default and autoincrement drifts are caught", async () => {
  assert.deepEqual(await findDrift(conn, "tide", edit("username     String    @unique @db.VarChar(64)", "username     String    @unique @db.VarChar(99)")), [
    "users.username: schema.prisma says varchar(99), the database has varchar(64)",
  ]);
  assert.deepEqual(await findDrift(conn, "tide", edit("lastError    String?        @map(\"last_error\") @db.Text", "lastError    String        @map(\"last_error\") @db.Text")), [
    "sync_jobs.last_error: nullability differs (schema.prisma: required, database: NULL)",
  ]);
  assert.deepEqual(await findDrift(conn, "tide", edit("restarts       Int      @default(0)", "restarts       Int      @default(1)")), [
    "worker_status.restarts: default differs (schema.prisma: 1, database: 0)",
  ]);
  assert.deepEqual(await findDrift(conn, "tide", edit("  rowsPerSec  Float    @map(\"rows_per_sec\")", "  rowsPerSec  Int      @map(\"rows_per_sec\")")), [
    "metric_samples.rows_per_sec: schema.prisma says int, the database has double",
  ]);
  assert.deepEqual(await findDrift(conn, "tide", edit("  spec         Json\n", "  spec         String         @db.Text\n")), ["sync_jobs.spec: schema.prisma says text, the database has longtext"]);
});

test("index, unique, foreign key and table drifts are caught", async () => {
  assert.deepEqual(await findDrift(conn, "tide", edit("  @@index([jobId, at])\n", "  @@index([jobId, at])\n  @@index([at])\n")), [
    "MetricSample: index metric_samples.metric_samples_at_idx (at) is missing from the migrations",
  ]);
  assert.deepEqual(await findDrift(conn, "tide", edit("  serverId     Int            @unique @map(\"server_id\")", "  serverId     Int            @map(\"server_id\")")), [
    "sync_jobs.sync_jobs_server_id_key: the database has an index schema.prisma does not",
  ]);
  assert.deepEqual(
    await findDrift(conn, "tide", edit("source       SourceConnection @relation(fields: [sourceId], references: [id])", "source       SourceConnection @relation(fields: [sourceId], references: [id], onDelete: Cascade)")),
    ["sync_jobs.sync_jobs_source_id_fkey: schema.prisma says (source_id) REFERENCES source_connections(id) ON DELETE CASCADE ON UPDATE CASCADE, the database has (source_id) REFERENCES source_connections(id) ON DELETE RESTRICT ON UPDATE CASCADE"],
  );
  const withModel = `${SCHEMA}\nmodel Audit {\n  id Int @id @default(autoincrement())\n  @@map("audits")\n}\n`;
  assert.deepEqual(await findDrift(conn, "tide", withModel), ["Audit: table audits is missing from the migrations"]);
  await conn.query("CREATE TABLE stray (id INTEGER NOT NULL PRIMARY KEY)");
  try {
    assert.deepEqual(await findDrift(conn, "tide", SCHEMA), ["stray: the database has a table schema.prisma does not"]);
  } finally {
    await conn.query("DROP TABLE stray");
  }
});
