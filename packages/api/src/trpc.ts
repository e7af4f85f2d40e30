// tRPC set-up: the context every call gets, the one place domain errors become
// HTTP/tRPC errors (with field-level messages, never a stack trace), and the
// procedure builders that enforce sign-in and roles.
import { initTRPC, TRPCError } from "@trpc/server";
import { InvalidInputError, isTideError, type TideErrorCode } from "@tide/contracts";
import { ZodError } from "zod";
import type { ApiContext } from "./context";

const TRPC_CODES: Record<TideErrorCode, TRPCError["code"]> = {
  INVALID_INPUT: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  SOURCE_UNREACHABLE: "BAD_REQUEST",
  SOURCE_MISCONFIGURED: "PRECONDITION_FAILED",
  QUERY_FAILED: "BAD_REQUEST",
  WORKER_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause instanceof ZodError ? InvalidInputError.fromZod(error.cause) : error.cause;
    const tide = isTideError(cause) ? cause : undefined;
    const internal = error.code === "INTERNAL_SERVER_ERROR" && !tide;
    return {
      message: internal ? "Something went wrong on the server; its log has the details." : (tide?.message ?? shape.message),
      code: shape.code,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        tideCode: tide?.code,
        fieldErrors: tide?.fieldErrors,
      },
    };
  },
});

/** Rethrows domain errors with a matching tRPC code so HTTP statuses are right. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isTideError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODES[cause.code], message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

const ROLE_RANK = { viewer: 0, editor: 1, admin: 2 } as const;
export type Role = keyof typeof ROLE_RANK;

/** Signed in with at least `role` (viewer < editor < admin). */
export function procedureFor(role: Role) {
  return authedProcedure.use(({ ctx, next }) => {
    const rank = ROLE_RANK[ctx.user.role as Role] ?? -1;
    if (rank < ROLE_RANK[role]) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${role} role; you are ${ctx.user.role}.` });
    }
    return next();
  });
}
