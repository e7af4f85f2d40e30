// Domain errors carry a code and a message a user can act on. They are mapped to
// tRPC/HTTP codes in one place (packages/api/src/trpc.ts); nothing else shows a
// stack trace to a user.
import type { z } from "zod";

export type TideErrorCode =
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "SOURCE_UNREACHABLE"
  | "SOURCE_MISCONFIGURED"
  | "QUERY_FAILED"
  | "WORKER_UNAVAILABLE"
  | "INTERNAL";

export class TideError extends Error {
  constructor(
    readonly code: TideErrorCode,
    message: string,
    /** Field-level messages, keyed by a dotted path into the input (`source.hostname`). */
    readonly fieldErrors: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends TideError {
  constructor(message: string, fieldErrors: Record<string, string> = {}) {
    super("INVALID_INPUT", message, fieldErrors);
  }

  static fromZod(error: z.ZodError, what = "The input"): InvalidInputError {
    const fieldErrors: Record<string, string> = {};
    for (const issue of error.issues) {
      const path = issue.path.map(String).join(".") || "_";
      fieldErrors[path] ??= issue.message;
    }
    const first = Object.entries(fieldErrors)[0];
    const summary = first ? `${what} is invalid: ${first[0]}: ${first[1]}` : `${what} is invalid`;
    return new InvalidInputError(summary, fieldErrors);
  }
}

export class NotFoundError extends TideError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

export class ConflictError extends TideError {
  constructor(message: string, fieldErrors: Record<string, string> = {}) {
    super("CONFLICT", message, fieldErrors);
  }
}

/** The source cannot be reached or refused the login; `field` says which input to fix. */
export class SourceUnreachableError extends TideError {
  constructor(message: string, fieldErrors: Record<string, string> = {}) {
    super("SOURCE_UNREACHABLE", message, fieldErrors);
  }
}

export class QueryFailedError extends TideError {
  constructor(message: string) {
    super("QUERY_FAILED", message);
  }
}

export class WorkerUnavailableError extends TideError {
  constructor(message = "The Tide worker is not reachable; it may be restarting. Try again in a few seconds.") {
    super("WORKER_UNAVAILABLE", message);
  }
}

export function isTideError(error: unknown): error is TideError {
  return error instanceof TideError;
}
