// Flink CDC's startup modes: binlog only from now, from a file and position,
// from a time; and snapshot only. (initial, snapshot then binlog, is what every
// other test runs.)
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { PipelineSpecInput } from "@tide/contracts";
import { sleep, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack("startup-modes");
  for (const t of ["latest", "specific", "gtid_mid", "gtid_end", "gtid_ahead", "stamped", "copied"]) {
    await stack.source.sql(`CREATE TABLE shop.${t} (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO shop.${t} VALUES (1, 'before'), (2, 'before');`);
  }
  await stack.startWorker();
});

after(async () => {
  await stack?.close();
});

async function masterPosition(): Promise<{ file: string; pos: number }> {
  const [s] = (await stack.source.sql("SHOW MASTER STATUS")) as { File: string; Position: number }[];
  return { file: s!.File, pos: Number(s!.Position) };
}

async function ids(table: string): Promise<number[]> {
  await stack.stopWorker();
  const rows = await warehouseRows(stack, "ods", table);
  await stack.startWorker();
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

function spec(name: string, table: string, source: Record<string, unknown>): PipelineSpecInput {
  const base = sourceSpec(stack, name, `shop\\.${table}`);
  return { ...base, source: { ...base.source, ...source } as PipelineSpecInput["source"] };
}

test("latest-offset: only changes made after the job started", async () => {
  const jobId = await stack.createJob(spec("latest", "latest", { "scan.startup.mode": "latest-offset" }));
  await waitForState(stack, jobId, "streaming");
  await stack.source.sql("INSERT INTO shop.latest VALUES (3, 'after'), (4, 'after')");
  await waitCaughtUp(stack, jobId);
  assert.deepEqual(await ids("latest"), [3, 4]);
});

test("specific-offset: changes from a binlog file and position on", async () => {
  await stack.source.sql("INSERT INTO shop.specific VALUES (3, 'skipped')");
  const at = await masterPosition();
  await stack.source.sql("INSERT INTO shop.specific VALUES (4, 'wanted'); UPDATE shop.specific SET v = 'changed' WHERE id = 1;");
  const jobId = await stack.createJob(
    spec("specific", "specific", { "scan.startup.mode": "specific-offset", "scan.startup.specific-offset.file": at.file, "scan.startup.specific-offset.pos": at.pos }),
  );
  await waitForState(stack, jobId, "streaming");
  await waitCaughtUp(stack, jobId);
  // Row 1 arrives through its update (full row image); rows 2 and 3 were never changed after the position.
  assert.deepEqual(await ids("specific"), [1, 4]);
});

test("specific-offset by MariaDB GTID: changes after that transaction, whether it ends its binlog file or not", async () => {
  const gtidOf = async () => String(((await stack.source.sql("SELECT @@gtid_binlog_pos AS g")) as { g: string }[])[0]!.g);
  // The GTID's transaction in the middle of a file, then one that is the last of its file.
  await stack.source.sql("FLUSH BINARY LOGS; INSERT INTO shop.gtid_mid VALUES (3, 'skipped');");
  const mid = await gtidOf();
  await stack.source.sql("INSERT INTO shop.gtid_mid VALUES (4, 'wanted'); UPDATE shop.gtid_mid SET v = 'changed' WHERE id = 2;");
  await stack.source.sql("INSERT INTO shop.gtid_end VALUES (3, 'skipped');");
  const end = await gtidOf();
  await stack.source.sql("FLUSH BINARY LOGS; INSERT INTO shop.gtid_end VALUES (5, 'wanted');");
  for (const [table, gtid, expected] of [["gtid_mid", mid, [2, 4]], ["gtid_end", end, [5]]] as const) {
    const jobId = await stack.createJob(spec(table, table, { "scan.startup.mode": "specific-offset", "scan.startup.specific-offset.gtid-set": gtid }));
    await waitForState(stack, jobId, "streaming");
    await waitCaughtUp(stack, jobId);
    assert.deepEqual(await ids(table), expected, `${table} from after ${gtid}`);
  }
  // A GTID the binlog has not written yet fails the job and says so.
  const [domain, server, seq] = end.split("-");
  const ahead = await stack.createJob(spec("gtid_ahead", "gtid_ahead", { "scan.startup.mode": "specific-offset", "scan.startup.specific-offset.gtid-set": `${domain}-${server}-${Number(seq) + 1000}` }));
  await waitForState(stack, ahead, "failed");
  const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: ahead } });
  assert.match(job.lastError ?? "", /has no transaction with GTID/);
});

test("timestamp: changes committed at or after a time", async () => {
  await stack.source.sql("INSERT INTO shop.stamped VALUES (3, 'too early')");
  await sleep(2_100);
  const from = Date.now();
  await sleep(1_100);
  await stack.source.sql("INSERT INTO shop.stamped VALUES (5, 'in time')");
  const jobId = await stack.createJob(spec("stamped", "stamped", { "scan.startup.mode": "timestamp", "scan.startup.timestamp-millis": from }));
  await waitForState(stack, jobId, "streaming", 60_000);
  await waitCaughtUp(stack, jobId);
  assert.deepEqual(await ids("stamped"), [5]);
});

test("snapshot: copies once, then the job is finished and later changes stay out", async () => {
  const jobId = await stack.createJob(spec("copied", "copied", { "scan.startup.mode": "snapshot" }));
  await waitForState(stack, jobId, "finished");
  await stack.source.sql("INSERT INTO shop.copied VALUES (9, 'later')");
  await sleep(2_000);
  const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } });
  assert.equal(job.actualState, "finished");
  assert.deepEqual(await ids("copied"), [1, 2]);
});

test("a startup mode without its options is refused with a field-level message", async () => {
  await assert.rejects(stack.createJob(spec("bad", "latest", { "scan.startup.mode": "timestamp" })), /timestamp-millis/);
});
