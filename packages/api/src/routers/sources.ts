import { z } from "zod";
import { checkSource, connectionProblem, discoverTables } from "@tide/cdc-mysql";
import { SourceUnreachableError } from "@tide/contracts";
import { procedureFor, router } from "../trpc";

export const SourceConnectionInput = z.object({
  hostname: z.string().trim().min(1, "Enter the database host"),
  port: z.coerce.number().int().min(1, "Port is 1-65535").max(65535, "Port is 1-65535").default(3306),
  username: z.string().min(1, "Enter the user Tide connects as"),
  password: z.string(),
});
export type SourceConnectionInput = z.infer<typeof SourceConnectionInput>;

export function toSourceConfig(input: SourceConnectionInput) {
  return { host: input.hostname, port: input.port, user: input.username, password: input.password };
}

export const sourcesRouter = router({
  /** Runs every prerequisite check; failing ones say what is wrong and how to fix it. */
  test: procedureFor("editor")
    .input(SourceConnectionInput)
    .mutation(async ({ input }) => {
      const report = await checkSource(toSourceConfig(input));
      return { ...report, fieldErrors: connectionProblem(report) };
    }),

  discover: procedureFor("editor")
    .input(SourceConnectionInput)
    .mutation(async ({ input }) => {
      const config = toSourceConfig(input);
      const report = await checkSource(config);
      const problem = connectionProblem(report);
      if (problem) throw new SourceUnreachableError(Object.values(problem)[0] ?? "Cannot connect", problem);
      return discoverTables(config);
    }),
});
