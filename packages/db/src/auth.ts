// Users' passwords (scrypt), sessions (only a hash of the token is stored) and
// the first admin account.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PrismaClient } from "./generated/prisma/client";

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64"), hash.toString("base64")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  if (expected.length < 16) return false;
  let actual: Buffer;
  try {
    // maxmem sized for the stored parameters (Node's 32 MiB default caps N*r at 2^15).
    const [N, R, P] = [Number(n), Number(r), Number(p)];
    actual = await scryptAsync(password, Buffer.from(salt, "base64"), expected.length, { N, r: R, p: P, maxmem: 256 * N * R + 64 * 1024 * 1024 });
  } catch {
    return false; // malformed parameters in the stored hash
  }
  return timingSafeEqual(actual, expected);
}

const tokenId = (token: string) => createHash("sha256").update(token).digest("hex");

export async function createSession(prisma: PrismaClient, userId: number, ttlMs = 7 * 24 * 3600 * 1000): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + ttlMs);
  await prisma.session.create({ data: { id: tokenId(token), userId, expiresAt } });
  return { token, expiresAt };
}

export async function findSessionUser(prisma: PrismaClient, token: string): Promise<{ id: number; username: string; role: string } | undefined> {
  const session = await prisma.session.findUnique({ where: { id: tokenId(token) }, include: { user: true } });
  if (!session) return undefined;
  if (session.expiresAt.getTime() < Date.now()) {
    await prisma.session.deleteMany({ where: { id: session.id } });
    return undefined;
  }
  return { id: session.user.id, username: session.user.username, role: session.user.role };
}

export async function deleteSession(prisma: PrismaClient, token: string): Promise<void> {
  await prisma.session.deleteMany({ where: { id: tokenId(token) } });
}

/**
 * On first start (no users yet) creates `admin` with a random password, written
 * to <dataDir>/initial-admin-password (mode 0600) for the operator to read.
 */
export async function ensureAdmin(
  prisma: PrismaClient,
  dataDir: string,
  options: { password?: string } = {},
): Promise<{ created: boolean; username: string; password?: string }> {
  if ((await prisma.user.count()) > 0) return { created: false, username: "admin" };
  const file = join(dataDir, "initial-admin-password");
  // A previous start may have written the file and crashed before the insert: reuse its password.
  const previous = existsSync(file) ? readFileSync(file, "utf8").trim().split(":").slice(1).join(":") : undefined;
  const password = options.password ?? (previous || randomBytes(12).toString("base64url"));
  try {
    await prisma.user.create({ data: { username: "admin", passwordHash: await hashPassword(password), role: "admin" } });
  } catch (error) {
    // Two processes starting together: the other one created it.
    if ((await prisma.user.count()) > 0) return { created: false, username: "admin" };
    throw error;
  }
  writeFileSync(file, `admin:${password}\n`, { mode: 0o600 });
  return { created: true, username: "admin", password };
}

/** A binlog replica server id no other job uses (and never 1, the usual id of a source). */
export async function allocateServerId(prisma: PrismaClient): Promise<number> {
  const top = await prisma.syncJob.aggregate({ _max: { serverId: true } });
  return Math.max(top._max.serverId ?? 0, 5400) + 1;
}
