// Connections to a source, with the options every read needs: exact BIGINT and
// DECIMAL (strings), DATETIME(6) with its microseconds (dateStrings), JSON with
// big integers intact (jsonStrings), and TIMESTAMP read in UTC.
import mysql from "mysql2";
import type { Connection as PromiseConnection } from "mysql2/promise";

export interface SourceConnectionConfig {
  host: string;
  port: number;
  user: string;
  password: string;
}

const CONNECT_TIMEOUT_MS = 5_000;

export function connectionOptions(config: SourceConnectionConfig): mysql.ConnectionOptions {
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    connectTimeout: CONNECT_TIMEOUT_MS,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
    timezone: "Z",
    charset: "utf8mb4_general_ci",
  };
}

/** A callback connection (for streaming reads) plus its promise wrapper. */
export async function openConnection(config: SourceConnectionConfig): Promise<{ raw: mysql.Connection; conn: PromiseConnection }> {
  const raw = mysql.createConnection(connectionOptions(config));
  const conn = raw.promise();
  // Errors after connect (a server restart) surface on the next query; without a listener they would crash the process.
  raw.on("error", () => undefined);
  await conn.connect();
  await conn.query("SET SESSION time_zone = '+00:00'");
  return { raw, conn };
}

export function quoteIdent(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** The numeric server error (mysql2 mislabels some `code`s, e.g. 4052: branch on errno). */
export function errnoOf(error: unknown): number | undefined {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" ? errno : undefined;
}

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
