// "Test connection": every prerequisite of change data capture checked on its
// own, each failing one said in plain words with the fix. Measured behaviour
// (MariaDB 10.11): a wrong binlog setting gives no error at all downstream —
// rows just arrive wrong — so these checks are the only warning a user gets.
import type { SourceCheck, SourceCheckId, SourceCheckReport } from "@tide/contracts";
import type { RowDataPacket } from "mysql2/promise";
import { codeOf, errnoOf, openConnection, type SourceConnectionConfig } from "./connection";

const SYSTEM_SCHEMAS = ["mysql", "sys", "information_schema", "performance_schema"];

export async function checkSource(config: SourceConnectionConfig): Promise<SourceCheckReport> {
  const checks: SourceCheck[] = [];
  const add = (id: SourceCheckId, label: string, ok: boolean, detail: string, fix?: string) =>
    checks.push({ id, label, ok, detail, ...(ok || !fix ? {} : { fix }) });

  let opened;
  try {
    opened = await openConnection(config);
  } catch (error) {
    const failure = describeConnectFailure(error, config);
    add(failure.check, failure.check === "login" ? "Sign in" : "Reach the server", false, failure.detail, failure.fix);
    if (failure.check === "login") checks.unshift({ id: "connect", label: "Reach the server", ok: true, detail: `${config.host}:${config.port} answered` });
    return { ok: false, checks };
  }
  const { conn } = opened;
  try {
    add("connect", "Reach the server", true, `${config.host}:${config.port} answered`);
    add("login", "Sign in", true, `Signed in as "${config.user}"`);

    const [[vars]] = await conn.query<RowDataPacket[]>(
      "SELECT @@log_bin AS log_bin, @@binlog_format AS binlog_format, @@binlog_row_image AS row_image, @@binlog_row_metadata AS row_metadata, VERSION() AS version",
    );
    const version = String(vars?.version ?? "");
    const isMariadb = /mariadb/i.test(version);
    add("version", "Server version", true, version);

    const logBin = String(vars?.log_bin) === "1" || String(vars?.log_bin).toUpperCase() === "ON";
    add("log_bin", "Binary log enabled", logBin, logBin ? "log_bin is ON" : "log_bin is OFF: the server writes no binlog, so there are no changes to follow",
      "Start the server with log-bin (e.g. log-bin=mysql-bin in the [mysqld] section) and restart it");

    const format = String(vars?.binlog_format ?? "").toUpperCase();
    add("binlog_format", "Row-based binlog", format === "ROW", `binlog_format is ${format}`,
      "Set binlog_format=ROW in the server configuration (SET GLOBAL binlog_format='ROW' works for new sessions only)");

    const image = String(vars?.row_image ?? "").toUpperCase();
    add("binlog_row_image", "Full row images", image === "FULL",
      image === "FULL" ? "binlog_row_image is FULL" : `binlog_row_image is ${image}: columns missing from the binlog would arrive as NULL, indistinguishable from real NULLs`,
      "Set binlog_row_image=FULL in the server configuration");

    const metadata = String(vars?.row_metadata ?? "").toUpperCase();
    const metadataOk = metadata === "FULL";
    add("binlog_row_metadata", "Column names in the binlog", metadataOk,
      metadataOk ? "binlog_row_metadata is FULL"
        : metadata ? `binlog_row_metadata is ${metadata}: rows written before an ALTER TABLE and read after it would land in the wrong columns`
        : "This server has no binlog_row_metadata setting (it needs MySQL 8.0.1+ or MariaDB 10.5+)",
      "Set binlog_row_metadata=FULL in the server configuration file (SET GLOBAL is lost on restart)");

    try {
      await conn.query("SHOW MASTER STATUS");
      add("replication_client", isMariadb ? "BINLOG MONITOR privilege" : "REPLICATION CLIENT privilege", true, "The user can read the binlog position");
    } catch (error) {
      if (errnoOf(error) !== 1227) throw error;
      add("replication_client", isMariadb ? "BINLOG MONITOR privilege" : "REPLICATION CLIENT privilege", false,
        `The user "${config.user}" may not read the binlog position (${(error as Error).message})`,
        `GRANT REPLICATION CLIENT ON *.* TO '${config.user}'@'%'`);
    }

    const grants = await userGrants(conn);
    const canReplicate = grants.some((g) => / ON \*\.\* /i.test(g) && /ALL PRIVILEGES|REPLICATION SLAVE|REPLICATION REPLICA/i.test(g));
    add("replication_slave", "REPLICATION SLAVE privilege", canReplicate,
      canReplicate ? "The user may stream the binlog" : `The user "${config.user}" may not stream the binlog: it lacks REPLICATION SLAVE`,
      `GRANT REPLICATION SLAVE ON *.* TO '${config.user}'@'%'`);

    const [[visible]] = await conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?)`,
      [SYSTEM_SCHEMAS],
    );
    const tables = Number(visible?.n ?? 0);
    add("select", "Tables to read", tables > 0, tables > 0 ? `The user can read ${tables} table${tables === 1 ? "" : "s"}` : "The user can see no table outside the system schemas",
      `GRANT SELECT ON *.* TO '${config.user}'@'%' (or on the databases to sync)`);

    return { ok: checks.every((c) => c.ok), serverVersion: version, checks };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function userGrants(conn: import("mysql2/promise").Connection): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>("SHOW GRANTS FOR CURRENT_USER()");
  return rows.map((r) => String(Object.values(r)[0]));
}

function describeConnectFailure(error: unknown, config: SourceConnectionConfig): { check: SourceCheckId; detail: string; fix: string } {
  const code = codeOf(error);
  const errno = errnoOf(error);
  const where = `${config.host}:${config.port}`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return { check: "connect", detail: `Cannot resolve the host "${config.host}"`, fix: "Check the host name, or use the server's IP address" };
  }
  if (code === "ECONNREFUSED") {
    return { check: "connect", detail: `Nothing is listening on ${where}`, fix: "Check the port and that the server is running and accepts TCP connections" };
  }
  if (code === "ETIMEDOUT" || code === "EHOSTUNREACH") {
    return { check: "connect", detail: `${where} did not answer within 5 s`, fix: "Check the host, the port and any firewall between Tide and the server" };
  }
  if (errno === 1045 || code === "ER_ACCESS_DENIED_ERROR") {
    return { check: "login", detail: `The server refused user "${config.user}": wrong password, or no such user for this host`, fix: "Check the username and password" };
  }
  if (errno === 1130) {
    return { check: "login", detail: `The server does not accept "${config.user}" from Tide's host`, fix: `Create the user for the host Tide connects from, e.g. '${config.user}'@'%'` };
  }
  return { check: "connect", detail: `Cannot connect to ${where}: ${(error as Error)?.message ?? String(error)}`, fix: "Check the host and port" };
}

/** Field-level messages for the wizard when the source cannot be reached or refuses the login. */
export function connectionProblem(report: SourceCheckReport): Record<string, string> | undefined {
  const connect = report.checks.find((c) => c.id === "connect" && !c.ok);
  if (connect) {
    const field = /listening|answer within/.test(connect.detail) ? "source.port" : "source.hostname";
    return { [field]: connect.detail };
  }
  const login = report.checks.find((c) => c.id === "login" && !c.ok);
  if (login) return { "source.password": login.detail };
  return undefined;
}
