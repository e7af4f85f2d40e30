// A chunked snapshot under concurrent writes, killed -9 in the middle of a
// table: the restart continues from the checkpointed key ranges (it does not
// start over), and the warehouse ends equal to the source.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RandomWorkload, seedItems } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;
const CHUNK_ENV = { TIDE_SNAPSHOT_CHUNK_ROWS: "4000" };

before(async () => {
  stack = await startStack("chunked");
});

after(async () => {
  await stack?.close();
});

test("kill -9 mid-table during a chunked snapshot with concurrent writes: resumes from its ranges, ends equal", async () => {
  await seedItems(stack.source, 120_000);
  const workload = new RandomWorkload(stack.source, { maxId: 120_000, pauseMs: 1 });
  workload.start();
  const jobId = await stack.createJob(sourceSpec(stack, "chunked", "shop\\.items"));
  await stack.startWorker(CHUNK_ENV);
  // Wait until a checkpoint records part of the table, then kill.
  let readBefore = 0;
  let total = 0;
  const deadline = Date.now() + 60_000;
  while (readBefore === 0) {
    assert.ok(Date.now() < deadline, "no checkpoint recorded snapshot progress");
    const checkpoint = await stack.prisma.checkpoint.findFirst({ where: { jobId }, orderBy: { id: "desc" } });
    const progress = (checkpoint?.details as { snapshots?: Record<string, { chunks: { readAt?: unknown }[] }> } | undefined)?.snapshots?.["shop.items"];
    readBefore = progress?.chunks.filter((c) => c.readAt).length ?? 0;
    total = progress?.chunks.length ?? 0;
    if (readBefore === 0) await sleep(20);
  }
  assert.ok(readBefore < total, `${readBefore} of ${total} ranges read before the kill`);
  await stack.killWorker();

  await stack.startWorker(CHUNK_ENV);
  await waitForState(stack, jobId, "streaming", 120_000);
  await sleep(1_000);
  await workload.stop();
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();

  const log = readFileSync(stack.workerLog, "utf8");
  assert.equal(log.match(/chunked snapshot planned/g)?.length, 1, "the restart continued the planned snapshot instead of starting over");
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "items")), digestRows(await sourceRows(stack, "shop", "items")));
});
