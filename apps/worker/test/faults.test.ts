// Faults a job must get past on its own (the source down for 15 s) and one it
// must not paper over (its binlog purged): it fails, names the missing file and
// the remedy, and the re-snapshot brings the table back to equality.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { requestResnapshot } from "@tide/api/job-service";
import { RandomWorkload, seedItems } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack("faults", { separateSource: true });
  await seedItems(stack.source, 20_000);
});

after(async () => {
  await stack?.close();
});

async function assertEqual(): Promise<void> {
  await stack.stopWorker();
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "items")), digestRows(await sourceRows(stack, "shop", "items")));
  await stack.startWorker();
}

async function tablePhases(jobId: number): Promise<string[]> {
  const tables = await stack.prisma.syncJobTable.findMany({ where: { jobId }, orderBy: { id: "asc" } });
  return tables.map((t) => `${t.sourceDatabase}.${t.sourceTable}:${t.phase}`);
}

test("the source stopped for 15 s: the job shows it is reconnecting, then catches up by itself", async () => {
  const jobId = await stack.createJob(sourceSpec(stack, "items", "shop\\.items"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);
  const workload = new RandomWorkload(stack.source, { maxId: 20_000 });
  workload.start();
  await sleep(1_500);
  await workload.stop();
  await stack.source.stop();

  const down = Date.now();
  let seen: string | null = null;
  while (Date.now() - down < 15_000) {
    const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } });
    if (job.actualState === "reconnecting") seen = job.lastError;
    await sleep(250);
  }
  assert.match(seen ?? "", /^Reconnecting \(attempt \d+, next in \d+ s\)/);

  await stack.source.launch();
  const more = new RandomWorkload(stack.source, { maxId: 20_000 });
  more.start();
  await sleep(1_000);
  await more.stop();
  await waitForState(stack, jobId, "streaming", 60_000);
  await waitCaughtUp(stack, jobId, 90_000);
  await assertEqual();
});

test("a binlog purged past a paused job's position fails it with the file named, and a re-snapshot recovers", async () => {
  const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { name: "items" } });
  await stack.prisma.syncJob.update({ where: { id: job.id }, data: { desiredState: "paused" } });
  await waitForState(stack, job.id, "paused", 30_000);
  const checkpoint = await stack.prisma.checkpoint.findFirstOrThrow({ where: { jobId: job.id }, orderBy: { id: "desc" } });
  const savedFile = (checkpoint.position as { file: string }).file;

  const workload = new RandomWorkload(stack.source, { maxId: 20_000 });
  workload.start();
  await sleep(1_000);
  await workload.stop();
  await stack.source.sql("FLUSH BINARY LOGS");
  const [status] = (await stack.source.sql("SHOW MASTER STATUS")) as { File: string }[];
  // PURGE skips a file a dump thread still has open; the paused job's thread may take a moment to go.
  for (let attempt = 0; ; attempt++) {
    await stack.source.sql(`PURGE BINARY LOGS TO '${status!.File}'`);
    const logs = (await stack.source.sql("SHOW BINARY LOGS")) as { Log_name: string }[];
    if (!logs.some((l) => l.Log_name === savedFile)) break;
    assert.ok(attempt < 50, `${savedFile} could not be purged`);
    await sleep(200);
  }

  await stack.prisma.syncJob.update({ where: { id: job.id }, data: { desiredState: "running", actualState: "pending" } });
  await waitForState(stack, job.id, "failed", 30_000);
  const failed = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: job.id } });
  assert.ok(failed.lastError?.includes(savedFile), failed.lastError ?? "");
  assert.match(failed.lastError ?? "", /purged.*re-snapshot/s);
  // It stays failed: never a silent resume from another position. Its table says so too.
  await sleep(2_500);
  assert.equal((await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: job.id } })).actualState, "failed");
  assert.deepEqual(await tablePhases(job.id), ["shop.items:failed"]);

  await requestResnapshot(stack.prisma, job.id);
  await waitForState(stack, job.id, "streaming", 60_000);
  assert.deepEqual(await tablePhases(job.id), ["shop.items:streaming"]);
  await waitCaughtUp(stack, job.id);
  await assertEqual();
});

test("a job that lost SELECT on its table fails with its table marked failed; after the grant, Retry brings both back to streaming", async () => {
  const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { name: "items" } });
  await waitForState(stack, job.id, "streaming", 30_000);
  const grant = (verb: "GRANT" | "REVOKE") =>
    stack.source.sql(["'cdc'@'%'", "'cdc'@'localhost'"].map((user) => `${verb} SELECT ON *.* ${verb === "GRANT" ? "TO" : "FROM"} ${user};`).join(""));
  // Without SELECT the job's next read of the table is refused, or its table check no longer sees
  // the table (whichever comes first); either fails it at once.
  await grant("REVOKE");
  try {
    await waitForState(stack, job.id, "failed", 30_000);
    const failed = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: job.id } });
    assert.match(failed.lastError ?? "", /lacks a privilege: SELECT command denied|No table of the source matches "shop\\.items"/);
    assert.deepEqual(await tablePhases(job.id), ["shop.items:failed"]);
  } finally {
    await grant("GRANT");
  }
  // Retry, as the console's button does it.
  await stack.prisma.syncJob.update({ where: { id: job.id }, data: { desiredState: "running", actualState: "pending", lastError: null, lastErrorAt: null } });
  await waitForState(stack, job.id, "streaming", 60_000);
  assert.deepEqual(await tablePhases(job.id), ["shop.items:streaming"]);
  await waitCaughtUp(stack, job.id);
});
