import { procedureFor, router } from "../trpc";

export const systemRouter = router({
  /** Whether the worker is up, and how often (and why) it was restarted. */
  status: procedureFor("viewer").query(async ({ ctx }) => {
    const [row, health] = await Promise.all([
      ctx.services.prisma.workerStatus.findFirst({ where: { id: ctx.services.config.workerName } }),
      ctx.services.worker.health(),
    ]);
    if (!row && !health) return { worker: null };
    return {
      worker: {
        reachable: Boolean(health),
        pid: health?.pid ?? row?.pid ?? 0,
        restarts: row?.restarts ?? 0,
        lastExitReason: row?.lastExitReason ?? null,
        startedAt: row?.startedAt.toISOString() ?? null,
        heartbeatAt: row?.heartbeatAt.toISOString() ?? null,
      },
    };
  }),
});
