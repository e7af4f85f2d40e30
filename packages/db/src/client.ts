// The Prisma client for the metadata DB, over the MariaDB driver adapter (the
// only Prisma 7 adapter for MySQL-family servers; it talks to MySQL 8 too).
import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { PrismaClient } from "./generated/prisma/client";

export { PrismaClient };
export { Prisma } from "./generated/prisma/client";
export type {
  User,
  Session,
  SourceConnection,
  SyncJob,
  SyncJobTable,
  Checkpoint,
  MetricSample,
  WorkerStatus,
  Verification,
  SchemaChangeRecord,
} from "./generated/prisma/client";

export interface DatabaseAddress {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Splits a mysql:// URL; the database name is required. */
export function parseDatabaseUrl(url: string): DatabaseAddress {
  const parsed = new URL(url);
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:") throw new Error("DATABASE_URL must be a mysql:// URL");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!database) throw new Error("DATABASE_URL must name a database, e.g. mysql://tide:pw@127.0.0.1:3306/tide");
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

export function createPrismaClient(databaseUrl: string): PrismaClient {
  const a = parseDatabaseUrl(databaseUrl);
  const adapter = new PrismaMariaDb({
    host: a.host,
    port: a.port,
    user: a.user,
    password: a.password,
    database: a.database,
    connectionLimit: 10,
    // BIGINT ids and counters come back as BigInt, not lossy numbers.
    bigIntAsNumber: false,
  });
  return new PrismaClient({ adapter });
}
