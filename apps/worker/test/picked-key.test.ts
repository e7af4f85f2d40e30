// A source table without a primary key, synced two ways: with a key the user picks
// (`transform: primary-keys: code`), where updates fold into one row per code and
// deletes apply, so the warehouse ends equal to the source; and append-only
// (`table-model: duplicate`), where every version of a row is kept and deletes are not.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import type { Row } from "@tide/contracts";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

const SEED_ROWS = 20_000;
/** Keys are code = 3 × seq; new rows take codes above these. */
let nextCode = 3 * SEED_ROWS + 3;
let stack: Stack;

before(async () => {
  stack = await startStack("picked-key");
  // No primary key and no unique index: `code` is unique only by the application's habit.
  await stack.source.sql(`CREATE TABLE shop.t (code INT NOT NULL, name VARCHAR(40) NOT NULL, qty INT NOT NULL, note VARCHAR(40) NULL) ENGINE=InnoDB;
    INSERT INTO shop.t SELECT 3 * seq, CONCAT('name ', seq), seq % 50, IF(seq % 7 = 0, NULL, 'v1') FROM shop.seq_1_to_${SEED_ROWS};`);
});

after(async () => {
  await stack?.close();
});

async function source(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: "127.0.0.1", port: stack.source.port, user: "root", database: "shop" });
}

/** Inserts, non-key updates (one row and ranges) and deletes, until stopped; codes stay unique. */
function writeUntil(stop: { done: boolean }): Promise<number> {
  return (async () => {
    const conn = await source();
    let statements = 0;
    try {
      while (!stop.done) {
        const code = 3 * (1 + Math.floor(Math.random() * SEED_ROWS));
        const r = Math.random();
        if (r < 0.35) await conn.query("UPDATE t SET qty = qty + 1, note = ? WHERE code = ?", [`u${statements}`, code]);
        else if (r < 0.5) await conn.query("UPDATE t SET name = CONCAT(name, '+') WHERE code BETWEEN ? AND ?", [code, code + 30]);
        else if (r < 0.8) await conn.query("INSERT INTO t VALUES (?, ?, ?, ?)", [(nextCode += 3), `new ${statements}`, statements % 9, null]);
        else await conn.query("DELETE FROM t WHERE code = ?", [code]);
        statements++;
        if (statements % 50 === 0) await sleep(5);
      }
    } finally {
      await conn.end();
    }
    return statements;
  })();
}

function assertOneRowPerCode(rows: Row[]): void {
  const codes = new Set(rows.map((r) => Number(r.code)));
  assert.equal(codes.size, rows.length, "one warehouse row per picked key");
}

test("a keyless table with primary-keys: code is snapshotted, then updates fold by code and deletes apply; it ends equal to the source", async () => {
  const spec = sourceSpec(stack, "picked", "shop\\.t", { transform: [{ "source-table": "shop\\.t", "primary-keys": "code" }] });
  // Small key ranges, so the snapshot is split on the picked (unindexed) column.
  const jobId = await stack.createJob({ ...spec, source: { ...spec.source, "scan.incremental.snapshot.chunk.size": 2_000 } });
  // Writes run through the snapshot (its key ranges are planned on the picked column) and after it.
  const stop = { done: false };
  const writer = writeUntil(stop);
  // Checkpoints several times a second, so some fall between the ranges' reads.
  await stack.startWorker({ TIDE_CHECKPOINT_INTERVAL_MS: "200" });
  await waitForState(stack, jobId, "streaming", 60_000);
  await sleep(1_500);
  stop.done = true;
  const statements = await writer;
  assert.ok(statements > 100, `only ${statements} statements were written`);
  await waitCaughtUp(stack, jobId);

  const table = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId } });
  assert.deepEqual([table.model, table.keyColumns], ["unique", ["code"]]);
  // The first checkpoint holds the snapshot's plan (later ones drop it once the copy is in).
  const checkpoint = await stack.prisma.checkpoint.findFirstOrThrow({ where: { jobId }, orderBy: { id: "asc" } });
  const plan = (checkpoint.details as { snapshots?: Record<string, { keyColumn?: string; chunks: unknown[] }> }).snapshots?.["shop.t"];
  assert.ok(plan && plan.keyColumn === "code" && plan.chunks.length > 5, `the snapshot was split on code: ${JSON.stringify(plan?.keyColumn)}, ${plan?.chunks.length} ranges`);

  // The writes reached the source while ranges were read: the ranges were read at different positions.
  const reads = new Set<string>();
  for (const cp of await stack.prisma.checkpoint.findMany({ where: { jobId } })) {
    const chunks = (cp.details as { snapshots?: Record<string, { chunks: { readAt?: { file: string; pos: number } }[] }> }).snapshots?.["shop.t"]?.chunks ?? [];
    for (const c of chunks) if (c.readAt) reads.add(`${c.readAt.file}:${c.readAt.pos}`);
  }
  assert.ok(reads.size > 1, `the ranges were read at ${[...reads].join(", ") || "no recorded position"}`);

  await stack.stopWorker();
  const warehouse = await warehouseRows(stack, "ods", "t");
  assertOneRowPerCode(warehouse);
  assert.deepEqual(digestRows(warehouse), digestRows(await sourceRows(stack, "shop", "t")));
});

test("the same keyless table as table-model: duplicate keeps every version; deletes leave rows in place", async () => {
  const jobId = await stack.createJob({
    ...sourceSpec(stack, "appended", "shop\\.t"),
    route: [{ "source-table": "shop\\.t", "sink-table": "ods.t_versions" }],
    transform: [{ "source-table": "shop\\.t", "table-model": "duplicate" }],
  });
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);
  const picked = await stack.prisma.syncJob.findUniqueOrThrow({ where: { name: "picked" } });
  await waitForState(stack, picked.id, "streaming", 60_000);
  await waitCaughtUp(stack, jobId);

  // The versions each step leaves, read from the source between the steps.
  const before = await sourceRows(stack, "shop", "t");
  const codes = before.map((r) => Number(r.code)).sort((a, b) => a - b);
  const updated = codes.slice(100, 200);
  const conn = await source();
  try {
    for (let i = 0; i < 50; i++) await conn.query("INSERT INTO t VALUES (?, ?, ?, ?)", [(nextCode += 3), `late ${i}`, i, "late"]);
    await conn.query(`UPDATE t SET qty = qty + 1000, note = 'v2' WHERE code IN (${updated.map(() => "?").join(", ")})`, updated);
  } finally {
    await conn.end();
  }
  const middle = await sourceRows(stack, "shop", "t");
  const conn2 = await source();
  try {
    await conn2.query(`UPDATE t SET note = 'v3' WHERE code IN (${updated.slice(0, 30).map(() => "?").join(", ")})`, updated.slice(0, 30));
    // Deleted: 20 of the rows updated above and 20 this test left alone.
    const deleted = [...updated.slice(80, 100), ...codes.slice(1_000, 1_020)];
    await conn2.query(`DELETE FROM t WHERE code IN (${deleted.map(() => "?").join(", ")})`, deleted);
  } finally {
    await conn2.end();
  }
  const last = await sourceRows(stack, "shop", "t");
  await waitCaughtUp(stack, jobId);
  await waitCaughtUp(stack, picked.id);
  await stack.stopWorker();

  // Every row as first copied, then each insert's and update's new version, and nothing deleted.
  const versions = [...before, ...added(before, middle), ...added(middle, last)];
  assert.equal(versions.length, before.length + 50 + 100 + 30);
  const appended = await warehouseRows(stack, "ods", "t_versions");
  assert.equal(appended.length, versions.length);
  assert.deepEqual(digestRows(appended), digestRows(versions));
  assert.equal(appended.filter((r) => Number(r.code) === updated[0]).length, 3, "an updated-twice row has three versions");

  // Meanwhile the picked-key job folded the same changes to one row per code.
  const folded = await warehouseRows(stack, "ods", "t");
  assertOneRowPerCode(folded);
  assert.equal(folded.length, last.length);
  assert.deepEqual(digestRows(folded), digestRows(last));
});

/** Rows of `next` that are not (value for value) in `previous`: the versions one step wrote. */
function added(previous: Row[], next: Row[]): Row[] {
  const seen = new Set(previous.map(canonical));
  return next.filter((r) => !seen.has(canonical(r)));
}

function canonical(row: Row): string {
  return JSON.stringify(Object.keys(row).sort().map((k) => [k, typeof row[k] === "bigint" ? String(row[k]) : row[k]]));
}
