// Errors from a source, sorted into what a job retries (the server restarting,
// a lost connection) and what needs a person (a purged binlog, a privilege).
import { codeOf, errnoOf } from "./connection";

export class SourceError extends Error {
  constructor(
    readonly kind: "transient" | "fatal",
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SourceError";
  }
}

const TRANSIENT_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ER_SERVER_SHUTDOWN",
  "ER_CON_COUNT_ERROR",
  "PROTOCOL_SEQUENCE_TIMEOUT",
]);

/** Wraps any error from a source connection; `position` names where a binlog reader was. */
export function toSourceError(error: unknown, position?: { file: string; pos: number }): SourceError {
  if (error instanceof SourceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const errno = errnoOf(error);
  const code = codeOf(error);
  if (errno === 1236) {
    const where = position ? `${position.file}:${position.pos}` : "the saved position";
    if (/server.?id|server_uuid/i.test(message)) {
      return new SourceError("fatal", "duplicate_server_id", `Another replica uses the same server id: ${message}. Give this job a unique server-id.`, { cause: error });
    }
    return new SourceError(
      "fatal",
      "binlog_purged",
      `The source no longer has the binlog at ${where} (${message}). The binlog was purged past this job's saved position, so changes are missing: re-snapshot the job's tables to continue.`,
      { cause: error },
    );
  }
  if (errno === 4052) {
    return new SourceError("fatal", "duplicate_server_id", `Another replica uses the same server id (${message}). Give this job a unique server-id.`, { cause: error });
  }
  if (errno === 1227) {
    return new SourceError("fatal", "privilege", `The source user lacks a privilege: ${message}. Grant REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.*.`, { cause: error });
  }
  if (errno === 1045) {
    return new SourceError("fatal", "access_denied", `The source refused the login: ${message}`, { cause: error });
  }
  if ((code && TRANSIENT_CODES.has(code)) || errno === 1053 || /connection lost|closed state|Connection is closed/i.test(message)) {
    return new SourceError("transient", "connection", `Lost the connection to the source (${code ?? errno ?? "error"}): ${message}`, { cause: error });
  }
  return new SourceError("transient", "unknown", message, { cause: error });
}
