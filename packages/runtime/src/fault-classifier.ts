// Decides whether a job retries a fault (the source or metadata DB restarting,
// a lost connection) or stops in the failed state with a message to act on.
import { SourceError } from "@tide/cdc-mysql";
import { isTideError } from "@tide/contracts";
import { SchemaChangeRejected } from "./schema-evolution";

export interface ClassifiedFault {
  transient: boolean;
  /** One line a user can act on. */
  message: string;
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

export function classifyFault(error: unknown): ClassifiedFault {
  if (error instanceof SchemaChangeRejected) return { transient: false, message: error.message };
  if (error instanceof SourceError) return { transient: error.kind === "transient", message: error.message };
  if (isTideError(error)) return { transient: error.code === "SOURCE_UNREACHABLE", message: error.message };
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code && TRANSIENT_CODES.has(code)) return { transient: true, message: `${code}: ${message}` };
  // Pool/adapter errors from Prisma wrap the driver's; their text names the cause.
  if (/ECONNREFUSED|Connection lost|connection closed|pool timeout|Can't reach database/i.test(message)) {
    return { transient: true, message };
  }
  return { transient: false, message };
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
