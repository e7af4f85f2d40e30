// A single source transaction of 2 million rows: the reader hands it out in
// pieces (memory stays bounded), the pieces go into one load, and queries see
// none of it or all of it, never a part.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadServerConfig } from "@tide/config";
import { sleep, sourceSpec, startStack, waitCaughtUp, waitForState, type Stack } from "./stack";

const ROWS = 2_000_000;
let stack: Stack;

before(async () => {
  stack = await startStack("huge-tx");
});

after(async () => {
  await stack?.close();
});

async function warehouseCount(secret: string): Promise<number | undefined> {
  const res = await fetch(`${stack.env.TIDE_WORKER_URL}/internal/query`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify({ sql: "SELECT count(*) FROM ods.huge", maxRows: 1 }),
  });
  if (!res.ok) return undefined;
  return Number(((await res.json()) as { rows: unknown[][] }).rows[0]?.[0]);
}

test("a 2-million-row transaction becomes visible atomically, with the worker's memory bounded", async () => {
  await stack.source.sql("CREATE TABLE shop.huge (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, n BIGINT NOT NULL)");
  const jobId = await stack.createJob(sourceSpec(stack, "huge", "shop\\.huge"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);
  const secret = loadServerConfig(stack.env).internalSecret;

  let peakRssMb = 0;
  const seen = new Set<number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const pid = stack.workerPid();
      const rss = pid ? /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] : undefined;
      if (rss) peakRssMb = Math.max(peakRssMb, Number(rss) / 1024);
      const count = await warehouseCount(secret).catch(() => undefined);
      if (count !== undefined) seen.add(count);
      await sleep(100);
    }
  })();
  await stack.source.sql(`INSERT INTO shop.huge SELECT seq, CONCAT('row ', seq), seq * 7 FROM shop.seq_1_to_${ROWS}`);
  await waitCaughtUp(stack, jobId, 300_000);
  // The checkpoint is saved just before its loads commit: wait for the rows to show.
  for (let i = 0; i < 100 && !seen.has(ROWS); i++) await sleep(100);
  sampling = false;
  await sampler;

  assert.ok(seen.has(ROWS), `never saw all rows: ${[...seen].join(", ")}`);
  assert.deepEqual([...seen].filter((n) => n !== 0 && n !== ROWS), [], "a query saw part of the transaction");
  assert.ok(peakRssMb < 1024, `worker peak RSS ${peakRssMb.toFixed(0)} MiB`);
  console.log(`worker peak RSS while applying a ${ROWS}-row transaction: ${peakRssMb.toFixed(0)} MiB`);
});
