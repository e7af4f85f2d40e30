import { z } from "zod";
import { InvalidInputError, QueryRequest } from "@tide/contracts";
import { procedureFor, router } from "../trpc";

const Identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, "not a table name");
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export const warehouseRouter = router({
  tables: procedureFor("viewer").query(({ ctx }) => ctx.services.worker.tables()),

  preview: procedureFor("viewer")
    .input(z.object({ schema: Identifier, table: Identifier, limit: z.number().int().min(1).max(1000).default(50) }))
    .query(async ({ ctx, input }) => {
      const known = await ctx.services.worker.tables();
      if (!known.some((t) => t.schema === input.schema && t.table === input.table)) {
        throw new InvalidInputError(`There is no table ${input.schema}.${input.table} in the warehouse`);
      }
      return ctx.services.worker.query(`SELECT * FROM ${quote(input.schema)}.${quote(input.table)} LIMIT ${input.limit}`, input.limit);
    }),

  query: procedureFor("viewer")
    .input(QueryRequest)
    .mutation(({ ctx, input, signal }) => ctx.services.worker.query(input.sql, input.maxRows, signal)),
});
