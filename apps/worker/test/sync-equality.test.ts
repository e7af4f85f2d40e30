// Snapshot plus binlog of a 100k-row table while a writer keeps inserting,
// updating and deleting: at the end the warehouse equals the source.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { RandomWorkload, seedItems } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack("equality");
});

after(async () => {
  await stack?.close();
});

test("snapshot + binlog of a 100k-row table under concurrent writes ends equal to the source", async () => {
  await seedItems(stack.source, 100_000);
  const workload = new RandomWorkload(stack.source, { maxId: 100_000 });
  workload.start();
  await sleep(500); // writes before the job starts and while it snapshots
  const jobId = await stack.createJob(sourceSpec(stack, "items-equality", "shop\\.items"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 120_000);
  await sleep(3_000); // writes while streaming
  const stats = await workload.stop();
  assert.ok(stats.transactions > 50, `the writer committed only ${stats.transactions} transactions`);
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();

  const source = digestRows(await sourceRows(stack, "shop", "items"));
  const warehouse = digestRows(await warehouseRows(stack, "ods", "items"));
  assert.ok(source.rows > 90_000);
  assert.deepEqual(warehouse, source);

  const tables = await stack.prisma.syncJobTable.findMany({ where: { jobId } });
  assert.equal(tables.length, 1);
  assert.equal(tables[0]!.phase, "streaming");
  assert.ok(Number(tables[0]!.rowsCopied) >= 100_000);
});
