// The API against a real metadata DB and a real source (one private mariadbd):
// sign-in and roles, field-level errors for bad job input, and source
// passwords never leaving the server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { TRPCError } from "@trpc/server";
import { loadServerConfig } from "@tide/config";
import { createPrismaClient, ensureAdmin, hashPassword, migrate, SecretBox, type PrismaClient } from "@tide/db";
import { LocalMariadb } from "@tide/local-mariadb";
import { appRouter, type ApiContext } from "../src";
import { WorkerClient } from "../src/worker-client";

const DATA = resolve(import.meta.dirname, "../../../.test-data/api");
const SOURCE_PASSWORD = "s3cret-source-pw";
let db: LocalMariadb;
let prisma: PrismaClient;
let services: ApiContext["services"];

before(async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  db = await LocalMariadb.start({ dataDir: join(DATA, "mariadb") });
  await db.sql(
    `CREATE DATABASE tide; CREATE DATABASE crm;
     CREATE TABLE crm.customers (id INT PRIMARY KEY, name VARCHAR(50));
     CREATE TABLE crm.audit (msg VARCHAR(50), at DATETIME);
     CREATE USER 'cdc'@'%' IDENTIFIED BY '${SOURCE_PASSWORD}'; CREATE USER 'cdc'@'localhost' IDENTIFIED BY '${SOURCE_PASSWORD}';
     GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'cdc'@'%';
     GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'cdc'@'localhost';`,
  );
  const config = loadServerConfig({ DATABASE_URL: db.url("tide"), TIDE_DATA_DIR: join(DATA, "tide"), TIDE_WORKER_URL: "http://127.0.0.1:9" });
  await migrate(config.databaseUrl);
  prisma = createPrismaClient(config.databaseUrl);
  await ensureAdmin(prisma, config.dataDir);
  await prisma.user.create({ data: { username: "viewer", passwordHash: await hashPassword("viewer-pw-123"), role: "viewer" } });
  services = { config, prisma, secretBox: new SecretBox(config.secretKey), worker: new WorkerClient(config.workerUrl, config.internalSecret) };
});

after(async () => {
  await prisma?.$disconnect();
  await db?.stop();
});

function caller(user?: ApiContext["user"], cookies: string[] = []) {
  return appRouter.createCaller({ services, user, sessionToken: undefined, setCookie: (c) => cookies.push(c) });
}

const admin = { id: 1, username: "admin", role: "admin" };

function spec(overrides: Record<string, unknown> = {}, source: Record<string, unknown> = {}) {
  return {
    source: { type: "mysql", hostname: "127.0.0.1", port: db.port, username: "cdc", password: SOURCE_PASSWORD, tables: "crm\\.customers", ...source },
    pipeline: { name: "crm-sync" },
    ...overrides,
  };
}

async function fieldErrorsOf(promise: Promise<unknown>): Promise<Record<string, string>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TRPCError, `expected a TRPCError, got ${String(error)}`);
    const cause = error.cause as { fieldErrors?: Record<string, string> } | undefined;
    return cause?.fieldErrors ?? {};
  }
  assert.fail("expected the call to fail");
}

test("sign-in sets an httpOnly session cookie; a wrong password is refused without saying which part was wrong", async () => {
  const [username, password] = readFileSync(join(DATA, "tide", "initial-admin-password"), "utf8").trim().split(":");
  const cookies: string[] = [];
  const me = await caller(undefined, cookies).auth.login({ username: username!, password: password! });
  assert.equal(me.role, "admin");
  assert.match(cookies[0] ?? "", /^tide_session=[\w-]+; Path=\/; HttpOnly/);
  await assert.rejects(caller().auth.login({ username: "admin", password: "nope" }), /Wrong username or password/);
  await assert.rejects(caller().auth.login({ username: "ghost", password: "nope" }), /Wrong username or password/);
});

test("every procedure but sign-in needs a user, and viewers cannot change jobs", async () => {
  await assert.rejects(caller().jobs.list(), /Sign in first/);
  await assert.rejects(caller().warehouse.query({ sql: "SELECT 1" }), /Sign in first/);
  const viewer = { id: 2, username: "viewer", role: "viewer" };
  assert.deepEqual(await caller(viewer).jobs.list(), []);
  await assert.rejects(caller(viewer).jobs.create({ spec: spec() }), /needs the editor role/);
});

test("bad job input gets field-level messages", async () => {
  const c = caller(admin);
  const unknownHost = await fieldErrorsOf(c.jobs.create({ spec: spec({}, { hostname: "no-such-host.invalid" }) }));
  assert.match(unknownHost["source.hostname"] ?? "", /no-such-host\.invalid/);
  const wrongPassword = await fieldErrorsOf(c.jobs.create({ spec: spec({}, { password: "wrong" }) }));
  assert.match(wrongPassword["source.password"] ?? "", /refused|password/i);
  const noTable = await fieldErrorsOf(c.jobs.create({ spec: spec({}, { tables: "" }) }));
  assert.ok(noTable["source.tables"], JSON.stringify(noTable));
  const noKey = await fieldErrorsOf(c.jobs.create({ spec: spec({}, { tables: "crm\\.audit" }) }));
  assert.match(noKey["tables.crm.audit"] ?? "", /no primary key/);
  const badName = await fieldErrorsOf(c.jobs.create({ spec: spec({ pipeline: { name: "has space" } }) }));
  assert.ok(badName["pipeline.name"]);
});

test("a key-less table can be synced append-only or with a key the user picks", async () => {
  const c = caller(admin);
  const appendOnly = await c.jobs.create({
    spec: spec({ pipeline: { name: "audit-append" }, transform: [{ "source-table": "crm\\.audit", "table-model": "duplicate" }] }, { tables: "crm\\.audit" }),
  });
  const keyed = await c.jobs.create({
    spec: spec(
      { pipeline: { name: "audit-keyed" }, route: [{ "source-table": "crm\\.audit", "sink-table": "ods.audit_keyed" }], transform: [{ "source-table": "crm\\.audit", "primary-keys": "msg" }] },
      { tables: "crm\\.audit" },
    ),
  });
  assert.ok(appendOnly.id > 0 && keyed.id > 0);
});

test("the source password is stored encrypted and never returned", async () => {
  const c = caller(admin);
  const { id } = await c.jobs.create({ spec: spec() });
  const stored = await prisma.sourceConnection.findFirstOrThrow({ where: { jobs: { some: { id } } } });
  assert.ok(!stored.passwordEnc.includes(SOURCE_PASSWORD));
  assert.equal(services.secretBox.decrypt(stored.passwordEnc), SOURCE_PASSWORD);
  const responses = [await c.jobs.get({ id }), await c.jobs.list(), await c.sources.test({ hostname: "127.0.0.1", port: db.port, username: "cdc", password: SOURCE_PASSWORD })];
  for (const response of responses) assert.ok(!JSON.stringify(response).includes(SOURCE_PASSWORD));
  const job = await c.jobs.get({ id });
  assert.doesNotMatch(job.yaml, /password/);
  const conflict = await fieldErrorsOf(c.jobs.create({ spec: spec() }));
  assert.match(conflict["pipeline.name"] ?? "", /exists already/);
});

test("Test connection reports each prerequisite", async () => {
  const report = await caller(admin).sources.test({ hostname: "127.0.0.1", port: db.port, username: "cdc", password: SOURCE_PASSWORD });
  assert.equal(report.ok, true, JSON.stringify(report.checks.filter((x) => !x.ok)));
  assert.ok(report.checks.length >= 8);
});

test("verify needs the editor role: a viewer is refused and nothing is recorded", async () => {
  const { id } = await caller(admin).jobs.create({ spec: spec({ pipeline: { name: "crm-verify" } }) });
  // The worker would record the job's tables; there is none here, so one is written directly.
  await prisma.syncJobTable.create({
    data: { jobId: id, sourceDatabase: "crm", sourceTable: "customers", sinkTable: "ods.customers", model: "unique", keyColumns: ["id"], phase: "streaming" },
  });
  const viewer = { id: 2, username: "viewer", role: "viewer" };
  await assert.rejects(caller(viewer).jobs.verify({ id }), /needs the editor role/);
  assert.equal(await prisma.verification.count({ where: { jobId: id } }), 0);
  const editor = await prisma.user.create({ data: { username: "editor", passwordHash: await hashPassword("editor-pw-123"), role: "editor" } });
  const { verificationIds } = await caller({ id: editor.id, username: "editor", role: "editor" }).jobs.verify({ id });
  assert.equal(verificationIds.length, 1);
  assert.equal(await prisma.verification.count({ where: { jobId: id, status: "requested" } }), 1);
});
