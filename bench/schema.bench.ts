// Light schema change: adding, renaming and dropping a column of a 10M-row
// warehouse table through a running job (behavior evolve, so the drop is applied
// too), each beside the same ALTER's own time on the MariaDB source table, in the
// same run and on the same column; and the time from the source's ALTER to the
// change being visible in the warehouse (target: under 1 s).
import { cpus, totalmem } from "node:os";
import { loadServerConfig } from "@tide/config";
import { seedItems } from "../apps/worker/test/workload";
import { sleep, sourceSpec, startStack, waitForState } from "../apps/worker/test/stack";
import type { BenchResult } from "./run";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);

export async function schemaBenchmark(): Promise<BenchResult> {
  const stack = await startStack("bench-schema");
  const figures: BenchResult["figures"] = [{ label: "rows in the table", value: ROWS, unit: "rows" }];
  try {
    console.log(`seeding ${ROWS} rows`);
    await seedItems(stack.source, ROWS);
    // evolve applies every change, the drop included (lenient would keep the column).
    const jobId = await stack.createJob({ ...sourceSpec(stack, "schema", "shop\\.items"), pipeline: { name: "schema", "schema.change.behavior": "evolve" } });
    await stack.startWorker();
    await waitForState(stack, jobId, "streaming", 30 * 60_000);
    const secret = loadServerConfig(stack.env).internalSecret;
    /** Whether the warehouse answers the query (it fails while a column it names is missing). */
    const query = async (sql: string) => {
      const res = await fetch(`${stack.env.TIDE_WORKER_URL}/internal/query`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ sql, maxRows: 1 }),
      });
      return res.ok;
    };
    /** Source ALTER → the warehouse shows the change; also the source statement's own time. */
    const timeToVisible = async (alter: string, visible: () => Promise<boolean>) => {
      const started = performance.now();
      await stack.source.sql(alter);
      const sourceMs = performance.now() - started;
      while (!(await visible())) await sleep(5);
      return { sourceMs, totalMs: performance.now() - started };
    };

    const steps: [string, string, () => Promise<boolean>][] = [
      ["add a column", "ALTER TABLE shop.items ADD COLUMN bench_new INT DEFAULT 7", () => query("SELECT bench_new FROM ods.items LIMIT 1")],
      ["rename a column", "ALTER TABLE shop.items RENAME COLUMN bench_new TO bench_renamed", () => query("SELECT bench_renamed FROM ods.items LIMIT 1")],
      ["drop a column", "ALTER TABLE shop.items DROP COLUMN bench_renamed", async () => !(await query("SELECT bench_renamed FROM ods.items LIMIT 1"))],
    ];
    for (const [what, alter, visible] of steps) {
      const { sourceMs, totalMs } = await timeToVisible(alter, visible);
      const record = await stack.prisma.schemaChangeRecord.findFirstOrThrow({ where: { jobId }, orderBy: { id: "desc" } });
      if (record.outcome !== "applied") throw new Error(`${what}: ${record.outcome} (${record.detail})`);
      figures.push(
        { label: `${what}: warehouse (DuckDB) change`, value: record.durationMs, unit: "ms", note: record.detail ?? undefined },
        { label: `${what}: source (MariaDB) ALTER`, value: sourceMs, unit: "ms", note: alter.replace("ALTER TABLE shop.items ", "") },
        { label: `${what}: source ALTER to visible in the warehouse`, value: totalMs, unit: "ms", note: "target < 1000 ms; includes the source's own ALTER" },
      );
    }
    // The table still answers: the drop probe's failure was the column, not the table.
    if (!(await query("SELECT count(*) FROM ods.items"))) throw new Error("ods.items stopped answering");
  } finally {
    await stack.close();
  }
  return { name: "schema", ranAt: new Date().toISOString(), machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`, figures };
}
