// Applies prisma/migrations (hand-written SQL in Prisma's layout) and records
// them in Prisma's own _prisma_migrations table with the same checksums, so a
// `prisma migrate deploy` run from a networked machine accepts the history.
// Prisma's migration engine itself cannot run on these machines (STACK.md).
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import mysql from "mysql2/promise";
import { parseDatabaseUrl } from "./client";

/**
 * prisma/migrations of this checkout: TIDE_MIGRATIONS_DIR, else the one next to
 * this file (../../../prisma/migrations), else found from the working directory
 * upwards (the worker runs at the repo root, the console in apps/web), because
 * bundlers such as Turbopack leave import.meta.dirname undefined in server code.
 */
function defaultMigrationsDir(): string {
  if (process.env.TIDE_MIGRATIONS_DIR) return process.env.TIDE_MIGRATIONS_DIR;
  const here = import.meta.dirname as string | undefined;
  if (here) {
    const candidate = resolve(here, "..", "..", "..", "prisma", "migrations");
    if (existsSync(join(candidate, "migration_lock.toml"))) return candidate;
  }
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
  // Prisma's own table, column for column, so `prisma migrate deploy` accepts the history.
  await conn.query(`CREATE TABLE IF NOT EXISTS \`_prisma_migrations\` (
    \`id\` VARCHAR(36) NOT NULL,
    \`checksum\` VARCHAR(64) NOT NULL,
    \`finished_at\` DATETIME(3) NULL,
    \`migration_name\` VARCHAR(255) NOT NULL,
    \`logs\` TEXT NULL,
    \`rolled_back_at\` DATETIME(3) NULL,
    \`started_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    \`applied_steps_count\` INTEGER UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (\`id\`)
  ) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [rows] = (await conn.query("SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at")) as unknown as [
    { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }[],
  ];
  const live = rows.filter((r) => r.rolled_back_at === null);
  const unfinished = live.find((r) => r.finished_at === null);
  if (unfinished) {
    throw new Error(
      `Migration ${unfinished.migration_name} started earlier and never finished (see _prisma_migrations.logs); repair the metadata DB by hand, then delete its row from _prisma_migrations`,
    );
  }
  const done = new Map(live.map((r) => [r.migration_name, r]));
  if (!existsSync(dir)) throw new Error(`No migrations directory at ${dir}`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort();
  const applied: string[] = [];
  for (const name of names) {
    const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    const previous = done.get(name);
    if (previous) {
      if (previous.checksum !== checksum) {
        throw new Error(`Migration ${name} was changed after it was applied (checksum differs); add a new migration instead of editing an old one`);
      }
      continue;
    }
    const id = randomUUID();
    await conn.query("INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, NOW(3), 0)", [id, checksum, name]);
    try {
      for (const statement of splitStatements(sql)) await conn.query(statement);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await conn.query("UPDATE _prisma_migrations SET logs = ? WHERE id = ?", [message, id]);
      throw new Error(`Migration ${name} failed: ${message}`);
    }
    await conn.query("UPDATE _prisma_migrations SET finished_at = NOW(3), applied_steps_count = 1 WHERE id = ?", [id]);
    applied.push(name);
  }
  return applied;
}

/**
 * Splits a script into statements at each `;` that ends a line (only spaces or a
 * `--` comment may follow it), outside quotes and comments.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  let quote: string | undefined;
  const push = () => {
    if (current.trim()) statements.push(current.trim());
    current = "";
  };
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (quote) {
      current += ch;
      if (ch === "\\" && quote !== "`") current += sql[++i] ?? "";
      else if (ch === quote) {
        if (sql[i + 1] === quote) current += sql[++i]; // doubled quote inside a literal
        else quote = undefined;
      }
      continue;
    }
    if ((ch === "-" && sql[i + 1] === "-" && /[\s]/.test(sql[i + 2] ?? " ")) || ch === "#") {
      while (i + 1 < sql.length && sql[i + 1] !== "\n") i++;
      continue;
    }
    if (ch === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 1;
      current += " ";
      continue;
    }
    if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    if (ch === ";" && endsLine(sql, i + 1)) {
      push();
      continue;
    }
    current += ch;
  }
  push();
  return statements;
}

/** True when only blanks, then a line break, a `--`/`#` comment or the end, follow position `from`. */
function endsLine(sql: string, from: number): boolean {
  for (let i = from; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "\n" || ch === "\r" || ch === "#" || (ch === "-" && sql[i + 1] === "-")) return true;
    if (ch !== " " && ch !== "\t") return false;
  }
  return true;
}
