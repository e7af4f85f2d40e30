// A chunked snapshot under concurrent writes, killed -9 in the middle of a
// table: the restart continues from the checkpointed key ranges (it does not
// start over), and the warehouse ends equal to the source.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import mysql from "mysql2/promise";
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

/** Polls the newest checkpoint until it records at least one range of `table` as read: how many are read, of how many, split how. */
async function partlyRead(jobId: number, table: string): Promise<{ read: number; total: number; keyOrder?: string }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.ok(Date.now() < deadline, "no checkpoint recorded snapshot progress");
    const checkpoint = await stack.prisma.checkpoint.findFirst({ where: { jobId }, orderBy: { id: "desc" } });
    const plans = (checkpoint?.details as { snapshots?: Record<string, { keyOrder?: { kind: string }; chunks: { readAt?: unknown }[] }> } | undefined)?.snapshots;
    const plan = plans?.[table];
    const read = plan?.chunks.filter((c) => c.readAt).length ?? 0;
    if (read > 0) return { read, total: plan!.chunks.length, ...(plan!.keyOrder ? { keyOrder: plan!.keyOrder.kind } : {}) };
    await sleep(10);
  }
}

/** Random transactions of 1-3 statements from `statement`, a tenth rolled back, until stopped; returns those committed. */
async function randomTransactions(stack: Stack, stop: () => boolean, statement: (conn: mysql.Connection) => Promise<unknown>): Promise<number> {
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: stack.source.port, user: "root", database: "shop", charset: "utf8mb4" });
  let transactions = 0;
  try {
    while (!stop()) {
      await conn.beginTransaction();
      for (let i = 0; i < 1 + Math.floor(Math.random() * 3); i++) await statement(conn);
      if (Math.random() < 0.1) await conn.rollback();
      else {
        await conn.commit();
        transactions += 1;
      }
    }
  } finally {
    await conn.end();
  }
  return transactions;
}

test("kill -9 mid-table during a chunked snapshot with concurrent writes: resumes from its ranges, ends equal", async () => {
  await seedItems(stack.source, 120_000);
  const workload = new RandomWorkload(stack.source, { maxId: 120_000, pauseMs: 1 });
  workload.start();
  const jobId = await stack.createJob(sourceSpec(stack, "chunked", "shop\\.items"));
  await stack.startWorker(CHUNK_ENV);
  // Wait until a checkpoint records part of the table, then kill.
  const { read: readBefore, total } = await partlyRead(jobId, "shop.items");
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

/** Random transactions on shop.order_lines (key (tenant, id)), including updates that move a row to another tenant. */
function linesWorkload(stack: Stack, stop: () => boolean): Promise<number> {
  let nextId = 1_000_000;
  return randomTransactions(stack, stop, async (conn) => {
    const tenant = Math.floor(Math.random() * 110);
    const r = Math.random();
    if (r < 0.35) {
      await conn.query("INSERT INTO order_lines (tenant, id, qty, note) VALUES (?, ?, ?, ?)", [tenant, ++nextId, Math.floor(Math.random() * 100), "new 🚀"]);
    } else if (r < 0.7) {
      await conn.query("UPDATE order_lines SET qty = qty + 1, note = 'changed' WHERE tenant = ? ORDER BY id LIMIT 3", [tenant]);
    } else if (r < 0.85) {
      // A key change that crosses key ranges.
      await conn.query("UPDATE IGNORE order_lines SET tenant = ? WHERE tenant = ? ORDER BY id LIMIT 1", [(tenant + 37) % 100, tenant]);
    } else {
      await conn.query("DELETE FROM order_lines WHERE tenant = ? ORDER BY id DESC LIMIT 2", [tenant]);
    }
  });
}

test("a composite key splits on its leading integer column; ranges load in parallel beside the stream, killed -9 and resumed, ends equal", async () => {
  await stack.source.sql(`CREATE TABLE shop.order_lines (tenant INT NOT NULL, id BIGINT NOT NULL, qty INT NOT NULL, note VARCHAR(40) NULL, PRIMARY KEY (tenant, id));
    INSERT INTO shop.order_lines SELECT seq DIV 1000, seq, seq % 97, IF(seq % 3 = 0, NULL, CONCAT('line ', seq)) FROM shop.seq_0_to_99999;`);
  let stopWriting = false;
  const writing = linesWorkload(stack, () => stopWriting);
  const jobId = await stack.createJob(sourceSpec(stack, "lines", "shop\\.order_lines", { pipeline: { name: "lines", parallelism: 3 } }));
  await stack.startWorker(CHUNK_ENV);

  // Mid-snapshot, /metrics shows the table snapshotting and the ranges done and remaining.
  let metrics = "";
  let total = 0;
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.ok(Date.now() < deadline, `no snapshot progress at /metrics:\n${metrics}`);
    metrics = await (await fetch(`${stack.env.TIDE_WORKER_URL}/metrics`)).text();
    const done = Number(/tide_job_snapshot_chunks\{job="lines",state="done"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    const remaining = Number(/tide_job_snapshot_chunks\{job="lines",state="remaining"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    if (done > 0 && remaining > 0) {
      total = done + remaining;
      break;
    }
    await sleep(20);
  }
  assert.match(metrics, /tide_job_table_phase\{job="lines",table="shop.order_lines",phase="snapshotting"\} 1/);
  assert.ok(total >= 20, `the table was split on tenant into ${total} ranges`);
  await stack.killWorker();

  await stack.startWorker(CHUNK_ENV);
  await waitForState(stack, jobId, "streaming", 120_000);
  await sleep(1_000);
  stopWriting = true;
  assert.ok((await writing) > 50, "the writer kept writing");
  await waitCaughtUp(stack, jobId);
  metrics = await (await fetch(`${stack.env.TIDE_WORKER_URL}/metrics`)).text();
  assert.match(metrics, /tide_job_table_phase\{job="lines",table="shop.order_lines",phase="streaming"\} 1/);
  await stack.stopWorker();

  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "order_lines")), digestRows(await sourceRows(stack, "shop", "order_lines")));
});

/** Random transactions on shop.accounts (key: a utf8mb4_general_ci string), including key changes that move a row between ranges. */
function accountsWorkload(stack: Stack, stop: () => boolean): Promise<number> {
  const letters = ["a", "B", "é", "Ö", "z", "ß", "😀", " ", "-", "7"];
  const word = () => Array.from({ length: 2 + Math.floor(Math.random() * 6) }, () => letters[Math.floor(Math.random() * letters.length)]).join("");
  return randomTransactions(stack, stop, async (conn) => {
    const near = word();
    const r = Math.random();
    if (r < 0.35) {
      await conn.query("INSERT IGNORE INTO accounts (code, balance, note) VALUES (?, ?, ?)", [word(), Math.floor(Math.random() * 1000), "new"]);
    } else if (r < 0.7) {
      await conn.query("UPDATE accounts SET balance = balance + 1, note = 'changed' WHERE code >= ? ORDER BY code LIMIT 2", [near]);
    } else if (r < 0.85) {
      // A key change, usually to another range (UPPER keeps it in place: equal under the collation).
      const upper = Math.random() < 0.2;
      await conn.query(`UPDATE IGNORE accounts SET code = ${upper ? "UPPER(code)" : "?"} WHERE code >= ? ORDER BY code LIMIT 1`, upper ? [near] : [word(), near]);
    } else {
      await conn.query("DELETE FROM accounts WHERE code >= ? ORDER BY code LIMIT 2", [near]);
    }
  });
}

test("a character key (utf8mb4_general_ci) splits into ranges by the source's collation; killed -9 mid-table and resumed under writes, ends equal", async () => {
  await stack.source.sql(`CREATE TABLE shop.accounts (code VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, balance INT NOT NULL, note VARCHAR(20));
    INSERT IGNORE INTO shop.accounts SELECT CONCAT(ELT(1 + seq % 7, 'a', 'B', 'é', 'Ö', 'ß', '😀', ' '), CONV(seq * 7919 % 1000003, 10, 36), ELT(1 + seq % 3, 'x', 'Y', ' z')), seq % 1000, NULL FROM shop.seq_1_to_200000;`);
  let stopWriting = false;
  const writing = accountsWorkload(stack, () => stopWriting);
  const jobId = await stack.createJob(sourceSpec(stack, "accounts", "shop\\.accounts", { pipeline: { name: "accounts", parallelism: 2 } }));
  await stack.startWorker(CHUNK_ENV);
  const { read: readBefore, total, keyOrder } = await partlyRead(jobId, "shop.accounts");
  assert.equal(keyOrder, "collated");
  assert.ok(total >= 10, `split into ${total} ranges`);
  assert.ok(readBefore < total, `${readBefore} of ${total} ranges read before the kill`);
  await stack.killWorker();

  await stack.startWorker(CHUNK_ENV);
  await waitForState(stack, jobId, "streaming", 120_000);
  await sleep(1_000);
  stopWriting = true;
  assert.ok((await writing) > 50, "the writer kept writing");
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();

  const log = readFileSync(stack.workerLog, "utf8");
  assert.equal(log.match(/chunked snapshot planned.*shop\.accounts/g)?.length, 1, "the restart continued the planned snapshot instead of starting over");
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "accounts")), digestRows(await sourceRows(stack, "shop", "accounts")));
});

test("columns added and dropped in the middle of a chunked snapshot, with writes to the new column: the table ends equal", async () => {
  await stack.source.sql(`CREATE TABLE shop.evolving (id INT NOT NULL PRIMARY KEY, qty INT NOT NULL, note VARCHAR(20) NULL);
    INSERT INTO shop.evolving SELECT seq, seq % 50, CONCAT('n', seq) FROM shop.seq_1_to_150000;`);
  const jobId = await stack.createJob(sourceSpec(stack, "evolving", "shop\\.evolving", { pipeline: { name: "evolving", parallelism: 2, "schema.change.behavior": "evolve" } }));
  await stack.startWorker(CHUNK_ENV);
  // Once part of the table is read, its shape changes, and rows everywhere take values in the new column.
  await partlyRead(jobId, "shop.evolving");
  // A transaction over the whole table first: while the stream works through it, range loads go on
  // and read the table as it is after the statements below, before the stream has reached them.
  await stack.source.sql(`UPDATE shop.evolving SET qty = qty + 1;
    ALTER TABLE shop.evolving ADD COLUMN extra INT NOT NULL DEFAULT 7;
    UPDATE shop.evolving SET extra = 9 WHERE id % 1000 = 0;
    ALTER TABLE shop.evolving DROP COLUMN note;
    UPDATE shop.evolving SET extra = 11, qty = qty + 1 WHERE id % 997 = 0;`);
  await waitCaughtUp(stack, jobId);
  // A table whose snapshot starts over shows snapshotting again until its ranges are read.
  await waitForState(stack, jobId, "streaming", 120_000);
  const table = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId } });
  assert.equal(table.phase, "streaming");
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "evolving")), digestRows(await sourceRows(stack, "shop", "evolving")));
});
