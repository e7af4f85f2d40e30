// Secrets at rest, passwords, sessions, the first admin and binlog server ids,
// the last three against a real private mariadbd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { LocalMariadb } from "@tide/local-mariadb";
import {
  allocateServerId,
  createPrismaClient,
  createSession,
  deleteSession,
  ensureAdmin,
  findSessionUser,
  hashPassword,
  migrate,
  SecretBox,
  verifyPassword,
  type PrismaClient,
} from "../src";

const ROOT = resolve(import.meta.dirname, "../../..");
const DATA = resolve(ROOT, ".test-data/db-secrets");
let db: LocalMariadb;
let prisma: PrismaClient;

before(async () => {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  db = await LocalMariadb.start({ dataDir: resolve(DATA, "mariadb"), fresh: true });
  await migrate(db.url("tide"));
  prisma = createPrismaClient(db.url("tide"));
});

after(async () => {
  await prisma?.$disconnect();
  await db?.stop();
});

test("the secret box round-trips with a fresh IV per value", () => {
  const box = new SecretBox(randomBytes(32));
  const a = box.encrypt("hunter2");
  const b = box.encrypt("hunter2");
  assert.notEqual(a, b);
  assert.match(a, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.equal(Buffer.from(a.split(":")[1]!, "base64").length, 12);
  assert.notEqual(a.split(":")[1], b.split(":")[1]);
  assert.ok(!a.includes("hunter2"));
  assert.equal(box.decrypt(a), "hunter2");
  assert.equal(box.decrypt(b), "hunter2");
  assert.equal(box.decrypt(box.encrypt("")), "");
  assert.equal(box.decrypt(box.encrypt("pâss:wörd€")), "pâss:wörd€");
  assert.throws(() => new SecretBox(randomBytes(16)), /32 bytes/);
});

test("the secret box detects tampering and a wrong key without echoing the secret", () => {
  const box = new SecretBox(randomBytes(32));
  const stored = box.encrypt("hunter2");
  const [version, iv, tag, ciphertext] = stored.split(":") as [string, string, string, string];
  const flipped = Buffer.from(ciphertext, "base64");
  flipped[0]! ^= 1;
  const noLeak = (e: Error) => /cannot be decrypted/.test(e.message) && !e.message.includes("hunter2");
  assert.throws(() => box.decrypt([version, iv, tag, flipped.toString("base64")].join(":")), noLeak);
  assert.throws(() => box.decrypt([version, iv, Buffer.alloc(16).toString("base64"), ciphertext].join(":")), noLeak);
  assert.throws(() => box.decrypt([version, randomBytes(12).toString("base64"), tag, ciphertext].join(":")), noLeak);
  assert.throws(() => new SecretBox(randomBytes(32)).decrypt(stored), noLeak);
  assert.throws(() => box.decrypt("hunter2"), (e: Error) => /not in a format/.test(e.message) && !e.message.includes("hunter2"));
});

test("passwords hash with scrypt and a random salt, and verify", async () => {
  const stored = await hashPassword("correct horse");
  assert.match(stored, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(await hashPassword("correct horse"), stored);
  assert.equal(await verifyPassword("correct horse", stored), true);
  assert.equal(await verifyPassword("correct hors", stored), false);
  assert.equal(await verifyPassword("", stored), false);
  assert.equal(await verifyPassword("correct horse", "plain"), false);
  assert.equal(await verifyPassword("correct horse", "scrypt$x$y$z$abc$def"), false);
});

test("the first admin is created once, with its password in a 0600 file", async () => {
  const first = await ensureAdmin(prisma, DATA);
  assert.equal(first.created, true);
  assert.equal(first.username, "admin");
  assert.equal(first.password?.length, 16);
  const file = resolve(DATA, "initial-admin-password");
  assert.equal(readFileSync(file, "utf8"), `admin:${first.password}\n`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = await ensureAdmin(prisma, DATA);
  assert.deepEqual(again, { created: false, username: "admin" });
  assert.equal(await prisma.user.count(), 1);
  const admin = await prisma.user.findUniqueOrThrow({ where: { username: "admin" } });
  assert.equal(admin.role, "admin");
  assert.ok(await verifyPassword(first.password!, admin.passwordHash));
  assert.ok(!admin.passwordHash.includes(first.password!));
});

test("ensureAdmin takes a given password (TIDE_ADMIN_PASSWORD)", async () => {
  const other = await LocalMariadb.start({ dataDir: resolve(DATA, "mariadb-2"), fresh: true });
  const client = createPrismaClient(other.url("tide"));
  const dir = resolve(DATA, "second");
  mkdirSync(dir, { recursive: true });
  try {
    await migrate(other.url("tide"));
    const result = await ensureAdmin(client, dir, { password: "given-password-1" });
    assert.deepEqual(result, { created: true, username: "admin", password: "given-password-1" });
    const admin = await client.user.findUniqueOrThrow({ where: { username: "admin" } });
    assert.ok(await verifyPassword("given-password-1", admin.passwordHash));
    assert.equal(readFileSync(resolve(dir, "initial-admin-password"), "utf8"), "admin:given-password-1\n");
  } finally {
    await client.$disconnect();
    await other.stop();
  }
});

test("sessions store only the token's hash, expire, and can be deleted", async () => {
  const admin = await prisma.user.findUniqueOrThrow({ where: { username: "admin" } });
  const before = Date.now();
  const session = await createSession(prisma, admin.id);
  assert.match(session.token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(Math.abs(session.expiresAt.getTime() - (before + 7 * 24 * 3600 * 1000)) < 5000);
  assert.deepEqual(await findSessionUser(prisma, session.token), { id: admin.id, username: "admin", role: "admin" });

  const rows = await prisma.session.findMany();
  assert.equal(rows.length, 1);
  assert.match(rows[0]!.id, /^[0-9a-f]{64}$/);
  assert.notEqual(rows[0]!.id, session.token);
  assert.equal(await prisma.session.count({ where: { id: session.token } }), 0);
  assert.equal(await findSessionUser(prisma, session.token.slice(0, -1)), undefined);
  assert.equal(await findSessionUser(prisma, ""), undefined);

  const other = await createSession(prisma, admin.id);
  await deleteSession(prisma, session.token);
  assert.equal(await findSessionUser(prisma, session.token), undefined);
  assert.equal((await findSessionUser(prisma, other.token))?.username, "admin");
  await deleteSession(prisma, session.token); // deleting twice is fine

  const expired = await createSession(prisma, admin.id, -1000);
  assert.equal(await prisma.session.count(), 2);
  assert.equal(await findSessionUser(prisma, expired.token), undefined);
  assert.equal(await prisma.session.count(), 1, "the expired session is deleted when seen");

  // Deleting the user deletes its sessions (ON DELETE CASCADE).
  const viewer = await prisma.user.create({ data: { username: "viewer", passwordHash: await hashPassword("x"), role: "viewer" } });
  const viewerSession = await createSession(prisma, viewer.id, 60_000);
  assert.equal((await findSessionUser(prisma, viewerSession.token))?.role, "viewer");
  await prisma.user.delete({ where: { id: viewer.id } });
  assert.equal(await findSessionUser(prisma, viewerSession.token), undefined);
});

test("binlog server ids are unique among jobs and never the source's own", async () => {
  const first = await allocateServerId(prisma);
  assert.ok(first > 5400);
  const source = await prisma.sourceConnection.create({
    data: { name: "src", kind: "mysql", host: "127.0.0.1", port: 3306, username: "u", passwordEnc: new SecretBox(randomBytes(32)).encrypt("p") },
  });
  const ids = new Set<number>();
  for (let i = 0; i < 3; i++) {
    const serverId = await allocateServerId(prisma);
    assert.notEqual(serverId, 1);
    assert.ok(!ids.has(serverId));
    ids.add(serverId);
    await prisma.syncJob.create({ data: { name: `job${i}`, sourceId: source.id, spec: {}, desiredState: "running", actualState: "pending", serverId } });
  }
  await prisma.syncJob.create({ data: { name: "high", sourceId: source.id, spec: {}, desiredState: "stopped", actualState: "stopped", serverId: 90000 } });
  assert.equal(await allocateServerId(prisma), 90001);
  assert.ok(existsSync(resolve(DATA, "initial-admin-password")));
});
