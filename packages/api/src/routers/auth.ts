import { z } from "zod";
import { createSession, deleteSession, verifyPassword } from "@tide/db";
import { TideError } from "@tide/contracts";
import { SESSION_COOKIE } from "../context";
import { authedProcedure, publicProcedure, router } from "../trpc";

const SESSION_TTL_S = 7 * 24 * 3600;

export const authRouter = router({
  login: publicProcedure
    .input(z.object({ username: z.string().min(1, "Enter your username"), password: z.string().min(1, "Enter your password") }))
    .mutation(async ({ ctx, input }) => {
      const { prisma } = ctx.services;
      const user = await prisma.user.findUnique({ where: { username: input.username } });
      // The same message for an unknown user and a wrong password: don't reveal which.
      if (!user || !(await verifyPassword(input.password, user.passwordHash))) {
        throw new TideError("UNAUTHENTICATED", "Wrong username or password.");
      }
      const session = await createSession(prisma, user.id, SESSION_TTL_S * 1000);
      ctx.setCookie(`${SESSION_COOKIE}=${session.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_S}`);
      return { id: user.id, username: user.username, role: user.role };
    }),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken) await deleteSession(ctx.services.prisma, ctx.sessionToken);
    ctx.setCookie(`${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return { ok: true };
  }),

  me: publicProcedure.query(({ ctx }) => ctx.user ?? null),
});
