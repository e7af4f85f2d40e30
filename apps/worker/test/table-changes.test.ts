// Tables joining and leaving a running job: a table created in the source that
// matches the job's pattern is snapshotted beside the stream and joins it
// without re-copying the others; a table taken out of the job stops following.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack("table-changes");
});

after(async () => {
  await stack?.close();
});

/** Keeps inserting, updating and deleting rows of the given tables until stopped. */
function writer(tables: () => string[]): { stop(): Promise<number> } {
  let running = true;
  let writes = 0;
  const loop = (async () => {
    const conn = await stack.source.connect("shop");
    let next = 1_000_000;
    while (running) {
      for (const t of tables()) {
        const r = Math.random();
        if (r < 0.5) await conn.query(`INSERT INTO ${t} VALUES (?, ?)`, [next++, "new"]);
        else if (r < 0.8) await conn.query(`UPDATE ${t} SET v = CONCAT(v, '+') WHERE id = ?`, [1 + Math.floor(Math.random() * 5_000)]);
        else await conn.query(`DELETE FROM ${t} WHERE id = ?`, [1 + Math.floor(Math.random() * 5_000)]);
        writes++;
      }
      await sleep(10);
    }
    await conn.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return writes;
    },
  };
}

async function equal(table: string): Promise<void> {
  const w = await warehouseRows(stack, "ods", table);
  const s = await sourceRows(stack, "shop", table);
  const key = (r: Record<string, unknown>) => `${String(r.id)}=${String(r.v)}`;
  const ws = new Set(w.map(key));
  const ss = new Set(s.map(key));
  const missing = [...ss].filter((k) => !ws.has(k)).slice(0, 5);
  const extra = [...ws].filter((k) => !ss.has(k)).slice(0, 5);
  assert.deepEqual(digestRows(w), digestRows(s), `${table}: missing ${missing.join(" ")}; extra ${extra.join(" ")}`);
}

test("a table created in the source joins the running job without re-copying the others; a removed one stops", async () => {
  await stack.source.sql("CREATE TABLE shop.t_a (id INT PRIMARY KEY, v VARCHAR(200)); INSERT INTO shop.t_a SELECT seq, 'a' FROM shop.seq_1_to_10000;");
  const jobId = await stack.createJob(sourceSpec(stack, "pattern", "shop\\.t_.*"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");
  const before = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId, sourceTable: "t_a" } });

  let tables = ["t_a"];
  const writes = writer(() => tables);
  await sleep(1_000);
  await stack.source.sql("CREATE TABLE shop.t_b (id INT PRIMARY KEY, v VARCHAR(200)); INSERT INTO shop.t_b SELECT seq, 'b' FROM shop.seq_1_to_60000;");
  tables = ["t_a", "t_b"];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const joined = await stack.prisma.syncJobTable.findFirst({ where: { jobId, sourceTable: "t_b", phase: "streaming" } });
    if (joined) break;
    assert.ok(Date.now() < deadline, "t_b did not join");
    await sleep(200);
  }
  await sleep(2_000);
  const writesBeforeRemoval = await writes.stop();
  assert.ok(writesBeforeRemoval > 100);
  await waitCaughtUp(stack, jobId);
  const after = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId, sourceTable: "t_a" } });
  assert.equal(after.snapshotStartedAt?.getTime(), before.snapshotStartedAt?.getTime(), "t_a was not copied again");
  await stack.stopWorker();
  await equal("t_a");
  await equal("t_b");

  // Take t_a out of the job: later changes to it stay out of the warehouse.
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");
  const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } });
  const spec = job.spec as { source: { tables: string } };
  await stack.prisma.syncJob.update({ where: { id: jobId }, data: { spec: { ...spec, source: { ...spec.source, tables: "shop\\.t_b" } } } });
  for (let i = 0; i < 100; i++) {
    if ((await stack.prisma.syncJobTable.count({ where: { jobId, sourceTable: "t_a" } })) === 0) break;
    await sleep(200);
  }
  await stack.source.sql("INSERT INTO shop.t_a VALUES (42000000, 'after removal'); INSERT INTO shop.t_b VALUES (42000000, 'still followed');");
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();
  const a = await warehouseRows(stack, "ods", "t_a");
  const b = await warehouseRows(stack, "ods", "t_b");
  assert.ok(!a.some((r) => Number(r.id) === 42000000), "t_a no longer followed");
  assert.ok(b.some((r) => Number(r.id) === 42000000), "t_b still followed");
});
