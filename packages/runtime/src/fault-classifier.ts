// Decides whether a job retries a fault or stops in the failed state with a
// message to act on. Known passing faults (the source or metadata DB
// restarting, a lost connection) are retried for as long as they last; a fault
// not known to pass gets a bounded number of attempts (RetryBudget); a full
// warehouse disk, a purged binlog or a missing privilege fail the job at once.
import { dirname } from "node:path";
import { SourceError } from "@tide/cdc-mysql";
import { isTideError } from "@tide/contracts";
import { SchemaChangeRejected } from "./schema-evolution";

export type FaultKind = "transient" | "unknown" | "fatal";

export interface ClassifiedFault {
  /** transient: retried indefinitely; unknown: retried within a RetryBudget; fatal: the job fails now. */
  kind: FaultKind;
  /** Whether it is retried at all (kind is not fatal). */
  transient: boolean;
  /** One line a user can act on. */
  message: string;
  /** The warehouse's disk is full. */
  diskFull?: boolean;
  /** DuckDB invalidated the warehouse: this process cannot use it again, the worker must restart to reopen it. */
  warehouseLost?: boolean;
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_GET_CONNECTION_TIMEOUT",
]);

// DuckDB reports a full disk in its message only ("Could not write file ...: No space left on device").
const DISK_FULL = /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i;
// A FATAL error (a checkpoint that could not be written; "COMMIT succeeded and is durable, but the
// autocheckpoint failed") invalidates the DuckDB instance: every later use fails until it is reopened.
const INVALIDATED = /database has been invalidated|must be restarted prior to being used again|Reopen the database instance|^FATAL Error/im;

export interface FaultContext {
  /** The warehouse file, to name its disk in the message. */
  warehousePath?: string;
}

export function classifyFault(error: unknown, context: FaultContext = {}): ClassifiedFault {
  const warehouse = warehouseFault(error, context);
  if (warehouse) return warehouse;
  if (error instanceof SchemaChangeRejected) return fatal(error.message);
  if (error instanceof SourceError) return { kind: error.kind, transient: error.kind !== "fatal", message: error.message };
  if (isTideError(error)) return error.code === "SOURCE_UNREACHABLE" ? transient(error.message) : fatal(error.message);
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code && TRANSIENT_CODES.has(code)) return transient(`${code}: ${message}`);
  // Pool/adapter errors from Prisma wrap the driver's; their text names the cause.
  if (/ECONNREFUSED|Connection lost|connection closed|pool timeout|Can't reach database/i.test(message)) return transient(message);
  return fatal(message);
}

/**
 * A warehouse write that failed for lack of space, or a warehouse DuckDB invalidated.
 * Errors a MySQL server sent (they carry a sqlState) are never the warehouse's: a source or
 * metadata DB that is out of space says so in its own words and is classified as theirs.
 */
function warehouseFault(error: unknown, context: FaultContext): ClassifiedFault | undefined {
  let diskFull = false;
  let lost = false;
  let detail: string | undefined;
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e === "object" && "sqlState" in e) return undefined;
    const text = e instanceof Error ? e.message : typeof e === "string" ? e : "";
    const code = errorCode(e);
    if (DISK_FULL.test(text) || code === "ENOSPC" || code === "EDQUOT") {
      diskFull = true;
      detail ??= text;
    }
    if (INVALIDATED.test(text)) {
      lost = true;
      detail ??= text;
    }
    e = typeof e === "object" ? (e as { cause?: unknown }).cause : undefined;
  }
  if (!diskFull && !lost) return undefined;
  const firstLine = (detail ?? "").split("\n").find((l) => DISK_FULL.test(l)) ?? (detail ?? "").split("\n")[0]!;
  if (diskFull) {
    const file = context.warehousePath ?? /file "([^"]+)"/.exec(detail ?? "")?.[1];
    const where = file ? ` at ${dirname(file)}` : "";
    return {
      kind: "fatal",
      transient: false,
      diskFull: true,
      warehouseLost: lost,
      message:
        `The warehouse disk${where} is full (${firstLine.trim()}). Free space on it, then Retry the job: it resumes from its last checkpoint, with nothing lost or doubled.` +
        (lost ? " The worker restarts itself to reopen the warehouse." : ""),
    };
  }
  return {
    kind: "fatal",
    transient: false,
    warehouseLost: true,
    message: `The warehouse hit a fatal error and has to be reopened (${firstLine.trim()}). The worker restarts itself to reopen it; then Retry the job: it resumes from its last checkpoint.`,
  };
}

/** Consecutive attempts a fault not known to pass gets before the job fails (about a minute of backoff). */
export const UNKNOWN_FAULT_ATTEMPTS = 8;

export type RetryVerdict = { retry: true; attempt: number; limit?: number } | { retry: false; message: string };

/**
 * Counts the faults a job retries. Known transient faults are always retried; faults not
 * known to pass (`unknown`) are retried until `limit` of them came in a row without the
 * job getting healthy in between (reset()), then the job fails with the last one.
 */
export class RetryBudget {
  private unknown = 0;
  private firstUnknownAt: number | undefined;

  constructor(readonly limit = UNKNOWN_FAULT_ATTEMPTS) {}

  /** Faults not known to pass counted since the last reset. */
  get unknownAttempts(): number {
    return this.unknown;
  }

  spend(fault: ClassifiedFault, now = Date.now()): RetryVerdict {
    if (fault.kind === "fatal") return { retry: false, message: fault.message };
    if (fault.kind === "transient") return { retry: true, attempt: this.unknown };
    this.unknown += 1;
    this.firstUnknownAt ??= now;
    if (this.unknown < this.limit) return { retry: true, attempt: this.unknown, limit: this.limit };
    const seconds = Math.round((now - this.firstUnknownAt) / 1000);
    return {
      retry: false,
      message: `Gave up after ${this.unknown} attempts in ${seconds} s: ${fault.message}. This is not an error Tide knows to pass by itself; fix its cause, then Retry the job.`,
    };
  }

  reset(): void {
    this.unknown = 0;
    this.firstUnknownAt = undefined;
  }
}

function transient(message: string): ClassifiedFault {
  return { kind: "transient", transient: true, message };
}

function fatal(message: string): ClassifiedFault {
  return { kind: "fatal", transient: false, message };
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; e && typeof e === "object" && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
