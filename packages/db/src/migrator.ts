// Applies prisma/migrations (hand-written SQL in Prisma's layout) and records
// them in Prisma's own _prisma_migrations table with the same checksums, so a
// `prisma migrate deploy` run from a networked machine accepts the history.
// Prisma's migration engine itself cannot run on these machines (STACK.md).
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import mysql from "mysql2/promise";
import { parseDatabaseUrl } from "./client";

/**
 * prisma/migrations of this checkout. Found from the working directory upwards
 * (the worker runs at the repo root, the console in apps/web), because bundlers
 * such as Turbopack leave import.meta.dirname undefined in server code.
 */
function defaultMigrationsDir(): string {
  if (process.env.TIDE_MIGRATIONS_DIR) return process.env.TIDE_MIGRATIONS_DIR;
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, "prisma", "migrations");
    if (existsSync(join(candidate, "migration_lock.toml"))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error("Cannot find prisma/migrations: run Tide from its directory or set TIDE_MIGRATIONS_DIR");
}
const LOCK_NAME = "tide_migrate";

export async function migrate(databaseUrl: string, options: { migrationsDir?: string } = {}): Promise<{ applied: string[] }> {
  const address = parseDatabaseUrl(databaseUrl);
  const dir = options.migrationsDir ?? defaultMigrationsDir();
  const conn = await mysql.createConnection({ host: address.host, port: address.port, user: address.user, password: address.password, multipleStatements: false });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${address.database.replaceAll("`", "``")}\` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.changeUser({ database: address.database });
    const [[lock]] = (await conn.query("SELECT GET_LOCK(?, 60) AS got", [LOCK_NAME])) as unknown as [[{ got: number }]];
    if (lock?.got !== 1) throw new Error("Another process has been migrating the metadata DB for 60 s; try again");
    try {
      return { applied: await applyPending(conn, dir) };
    } finally {
      await conn.query("SELECT RELEASE_LOCK(?)", [LOCK_NAME]);
    }
  } finally {
    await conn.end();
  }
}

async function applyPending(conn: mysql.Connection, dir: string): Promise<string[]> {
  await conn.query(`CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    checksum VARCHAR(64) NOT NULL,
    finished_at DATETIME(3) NULL,
    migration_name VARCHAR(255) NOT NULL,
    logs TEXT NULL,
    rolled_back_at DATETIME(3) NULL,
    started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0
  ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [rows] = (await conn.query("SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations")) as unknown as [
    { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }[],
  ];
  const done = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
  const names = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
  const applied: string[] = [];
  for (const name of names) {
    const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    const previous = done.get(name);
    if (previous) {
      if (previous.finished_at === null) {
        throw new Error(`Migration ${name} started earlier and never finished; repair the metadata DB by hand, then delete its row from _prisma_migrations`);
      }
      if (previous.checksum !== checksum) {
        throw new Error(`Migration ${name} was changed after it was applied (checksum differs); add a new migration instead of editing an old one`);
      }
      continue;
    }
    const id = randomUUID();
    await conn.query("INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES (?, ?, ?, NOW(3))", [id, checksum, name]);
    for (const statement of splitStatements(sql)) await conn.query(statement);
    await conn.query("UPDATE _prisma_migrations SET finished_at = NOW(3), applied_steps_count = 1 WHERE id = ?", [id]);
    applied.push(name);
  }
  return applied;
}

/** Splits a script at `;` that ends a line outside quotes and comments. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (quote) {
      current += ch;
      if (ch === "\\" && quote !== "`") current += sql[++i] ?? "";
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
      current += "\n";
      continue;
    }
    if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    if (ch === ";") {
      if (current.trim()) statements.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}
