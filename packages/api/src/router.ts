import { authRouter } from "./routers/auth";
import { jobsRouter } from "./routers/jobs";
import { sourcesRouter } from "./routers/sources";
import { systemRouter } from "./routers/system";
import { warehouseRouter } from "./routers/warehouse";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  sources: sourcesRouter,
  jobs: jobsRouter,
  warehouse: warehouseRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
