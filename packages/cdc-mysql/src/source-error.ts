// Errors from a source, sorted into what a job retries for as long as it takes
// (the server restarting, a lost connection), what needs a person (a purged
// binlog, a privilege), and what is not known to be either: those are retried
// a bounded number of times (see the runtime's fault classifier) and then fail.
import { codeOf, errnoOf } from "./connection";

export type SourceErrorKind = "transient" | "unknown" | "fatal";

export class SourceError extends Error {
  constructor(
    /** transient: retried indefinitely; unknown: retried a bounded number of times; fatal: fails the job at once. */
    readonly kind: SourceErrorKind,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SourceError";
  }
}

/** Client-side codes of a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_SEQUENCE_TIMEOUT",
]);

/**
 * Server errors that pass by themselves: shutdown in progress (1053), too many
 * connections (1040), connection killed (1927, what a restarting MariaDB sends its
 * sessions), network read/write errors (1158-1161).
 */
const CONNECTION_ERRNOS = new Set([1040, 1053, 1158, 1159, 1160, 1161, 1927]);
/** Lock wait timeout and deadlock: contention, retried like a lost connection. */
const CONTENTION_ERRNOS = new Set([1205, 1213]);
/** Access to a database, table or column denied: a grant is missing. */
const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227]);

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
  if (errno !== undefined && PRIVILEGE_ERRNOS.has(errno)) {
    return new SourceError("fatal", "privilege", `The source user lacks a privilege: ${message}. Grant REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.*.`, { cause: error });
  }
  if (errno === 1045) {
    return new SourceError("fatal", "access_denied", `The source refused the login: ${message}`, { cause: error });
  }
  if ((code && CONNECTION_CODES.has(code)) || (errno !== undefined && CONNECTION_ERRNOS.has(errno)) || /connection lost|closed state|Connection is closed/i.test(message)) {
    return new SourceError("transient", "connection", `Lost the connection to the source (${code ?? errno ?? "error"}): ${message}`, { cause: error });
  }
  if (errno !== undefined && CONTENTION_ERRNOS.has(errno)) {
    return new SourceError("transient", "contention", `The source was busy (${code ?? errno}): ${message}`, { cause: error });
  }
  // Not known to pass by itself: retried a few times, then the job fails with it.
  const label = code ?? (errno !== undefined ? String(errno) : undefined);
  return new SourceError("unknown", "unknown", label && !message.includes(label) ? `${label}: ${message}` : message, { cause: error });
}
