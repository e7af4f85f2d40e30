// The metadata DB layer against a real private mariadbd: migrations apply once
// and are guarded by checksums, schema.prisma and the SQL agree, and secrets,
// passwords and sessions behave.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { LocalMariadb } from "@tide/local-mariadb";
import { allocateServerId, createPrismaClient, createSession, deleteSession, ensureAdmin, findSessionUser, hashPassword, migrate, SecretBox, verifyPassword, type PrismaClient } from "../src";
import { findDrift } from "./schema-drift";

const DATA = resolve(import.meta.dirname, "../../../.test-data/db");
const SCHEMA = readFileSync(resolve(import.meta.dirname, "../../../prisma/schema.prisma"), "utf8");
let db: LocalMariadb;
let prisma: PrismaClient;

before(async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  db = await LocalMariadb.start({ dataDir: resolve(DATA, "mariadb") });
});

after(async () => {
  await prisma?.$disconnect();
  await db?.stop();
});

test("migrations apply once, concurrently safe, and refuse an edited history", async () => {
  const migrations = readdirSync(resolve(import.meta.dirname, "../../../prisma/migrations"), { withFileTypes: true }).filter((d) => d.isDirectory()).length;
  const results = await Promise.all([migrate(db.url("tide")), migrate(db.url("tide"))]);
  assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, migrations]);
  assert.deepEqual((await migrate(db.url("tide"))).applied, []);
  const [rows] = (await (await db.connect("tide")).query("SELECT migration_name, checksum, finished_at FROM _prisma_migrations")) as unknown as [
    { migration_name: string; checksum: string; finished_at: string | null }[],
  ];
  assert.equal(rows.length, migrations);
  assert.match(rows[0]!.checksum, /^[0-9a-f]{64}$/);
  const first = rows.map((r) => r.migration_name).sort()[0]!;
  const checksum = rows.find((r) => r.migration_name === first)!.checksum;
  await db.sql(`UPDATE tide._prisma_migrations SET checksum = REPEAT('0', 64) WHERE migration_name = '${first}'`);
  await assert.rejects(migrate(db.url("tide")), /changed after it was applied/);
  await db.sql(`UPDATE tide._prisma_migrations SET checksum = '${checksum}' WHERE migration_name = '${first}'`);
});

test("schema.prisma and the migrations agree, and a drift is caught", async () => {
  const conn = await db.connect("tide");
  try {
    assert.deepEqual(await findDrift(conn, "tide", SCHEMA), []);
    const drifted = SCHEMA.replace("  role         String    @db.VarChar(16)", "  role         String    @db.VarChar(16)\n  email        String?   @db.VarChar(200)");
    assert.notEqual(drifted, SCHEMA);
    assert.deepEqual(await findDrift(conn, "tide", drifted), ["User.email: column users.email is missing from the migrations"]);
    const retyped = SCHEMA.replace("username     String    @unique @db.VarChar(64)", "username     String    @unique @db.VarChar(99)");
    assert.match((await findDrift(conn, "tide", retyped)).join("\n"), /users\.username: schema\.prisma says varchar\(99\)/);
  } finally {
    await conn.end();
  }
});

test("the secret box encrypts with a fresh IV and detects tampering or a wrong key", () => {
  const box = new SecretBox(randomBytes(32));
  const a = box.encrypt("hunter2");
  const b = box.encrypt("hunter2");
  assert.notEqual(a, b);
  assert.ok(!a.includes("hunter2"));
  assert.equal(box.decrypt(a), "hunter2");
  const parts = a.split(":");
  const tampered = [...parts.slice(0, 3), Buffer.from("x").toString("base64")].join(":");
  assert.throws(() => box.decrypt(tampered), /cannot be decrypted/);
  assert.throws(() => new SecretBox(randomBytes(32)).decrypt(a), (e: Error) => /cannot be decrypted/.test(e.message) && !e.message.includes("hunter2"));
});

test("passwords, sessions, the first admin and server ids", async () => {
  const stored = await hashPassword("correct horse");
  assert.ok(await verifyPassword("correct horse", stored));
  assert.ok(!(await verifyPassword("wrong", stored)));

  prisma = createPrismaClient(db.url("tide"));
  const first = await ensureAdmin(prisma, DATA);
  assert.equal(first.created, true);
  const file = resolve(DATA, "initial-admin-password");
  assert.equal(readFileSync(file, "utf8").trim(), `admin:${first.password}`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal((await ensureAdmin(prisma, DATA)).created, false);

  const admin = await prisma.user.findUniqueOrThrow({ where: { username: "admin" } });
  assert.ok(await verifyPassword(first.password!, admin.passwordHash));
  const session = await createSession(prisma, admin.id);
  assert.deepEqual(await findSessionUser(prisma, session.token), { id: admin.id, username: "admin", role: "admin" });
  assert.equal((await prisma.session.findFirstOrThrow()).id.length, 64);
  assert.equal(await prisma.session.count({ where: { id: session.token } }), 0);
  await deleteSession(prisma, session.token);
  assert.equal(await findSessionUser(prisma, session.token), undefined);
  const expired = await createSession(prisma, admin.id, -1000);
  assert.equal(await findSessionUser(prisma, expired.token), undefined);

  assert.ok((await allocateServerId(prisma)) > 5400);
  assert.ok(existsSync(file));
});
