// kill -9 of the worker during streaming, then restart: nothing lost, nothing
// duplicated (the key-less append-only table would show a duplicate as a row).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { EVENTS_DDL, RandomWorkload, seedItems } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack("crash");
});

after(async () => {
  await stack?.close();
});

test("kill -9 of the worker while streaming loses nothing and duplicates nothing", async () => {
  await seedItems(stack.source, 20_000);
  await stack.source.sql(EVENTS_DDL);
  const jobId = await stack.createJob(
    sourceSpec(stack, "crash-job", "shop\\.items,shop\\.events", {
      transform: [{ "source-table": "shop\\.events", "table-model": "duplicate" }],
    }),
  );
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);
  const workload = new RandomWorkload(stack.source, { maxId: 20_000, withEvents: true });
  workload.start();
  for (let kill = 0; kill < 3; kill++) {
    await sleep(800 + Math.random() * 1500);
    await stack.killWorker();
    await sleep(200);
    await stack.startWorker();
    await waitForState(stack, jobId, "streaming", 60_000);
  }
  await sleep(1_000);
  const stats = await workload.stop();
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();

  const events = await warehouseRows(stack, "ods", "events");
  assert.equal(events.length, stats.events, "every committed event exactly once");
  const seqs = new Set(events.map((e) => String(e.seq)));
  assert.equal(seqs.size, events.length, "no event twice");
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "items")), digestRows(await sourceRows(stack, "shop", "items")));
  const status = await stack.prisma.workerStatus.findUnique({ where: { id: "default" } });
  assert.ok(status && status.restarts >= 3, "the worker's restarts after a crash are recorded");
});
