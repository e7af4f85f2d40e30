// XA transactions across a worker restart: the rows of an XA transaction come
// before its XA PREPARE in the binlog, and its XA COMMIT (or ROLLBACK) comes
// later, maybe after a checkpoint and a crash. The resumed job must still apply
// the committed ones (reading back to their rows), never the rolled-back ones,
// and hold huge ones whole until they are decided.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "mysql2/promise";
import { digestRows, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;
let conn: Connection;

before(async () => {
  stack = await startStack("xa");
  await stack.source.sql("CREATE TABLE shop.acct (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL)");
  conn = await stack.source.connect("shop");
});

after(async () => {
  await conn?.end();
  await stack?.close();
});

/** Prepares an XA transaction on a connection of its own, then disconnects: the prepared transaction stays for XA COMMIT/ROLLBACK. */
async function prepare(xid: string, sql: string): Promise<void> {
  const own = await stack.source.connect("shop");
  await own.query(`XA START '${xid}'`);
  await own.query(sql);
  await own.query(`XA END '${xid}'`);
  await own.query(`XA PREPARE '${xid}'`);
  await own.end();
}

const ids = async () => {
  await stack.stopWorker();
  const rows = await warehouseRows(stack, "ods", "acct");
  await stack.startWorker();
  return rows.length;
};

test("XA transactions prepared before a checkpoint and a kill -9 are applied at their XA COMMIT after the restart, rolled-back ones never", async () => {
  const jobId = await stack.createJob(sourceSpec(stack, "xa", "shop\\.acct"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");

  await prepare("small-commit", "INSERT INTO acct VALUES (1, 'committed after the restart')");
  await prepare("small-rollback", "INSERT INTO acct VALUES (2, 'rolled back')");
  await prepare("huge-rollback", "INSERT INTO acct SELECT seq, 'huge, rolled back' FROM seq_100000_to_129999");
  await prepare("huge-commit", "INSERT INTO acct SELECT seq, 'huge, committed' FROM seq_200000_to_224999");
  await conn.query("INSERT INTO acct VALUES (3, 'plain, after the prepares')");
  await waitCaughtUp(stack, jobId);
  // The checkpoint is past every XA PREPARE; none of their rows is visible yet.
  assert.equal(await ids(), 1);
  const checkpoint = await stack.prisma.checkpoint.findFirstOrThrow({ where: { jobId }, orderBy: { id: "desc" } });
  assert.ok((checkpoint.details as { xaReplayFrom?: unknown }).xaReplayFrom, "the checkpoint records where the prepared XA transactions start");

  await stack.killWorker();
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");
  await conn.query("XA COMMIT 'small-commit'");
  await conn.query("XA ROLLBACK 'small-rollback'");
  await conn.query("XA ROLLBACK 'huge-rollback'");
  await conn.query("XA COMMIT 'huge-commit'");
  await conn.query("INSERT INTO acct VALUES (4, 'plain, after the commits')");
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();

  const source = digestRows(await sourceRows(stack, "shop", "acct"));
  assert.equal(source.rows, 25_003);
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "acct")), source);
});
