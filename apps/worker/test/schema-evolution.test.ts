// The source's DDL followed while a writer keeps writing: a column added in
// the middle with a default, a rename, a drop plus an add in one ALTER, a type
// widened; then a series of ALTERs made while the job was stopped. The
// warehouse ends equal to the source (a dropped column is kept, lenient), and
// the history records each change. A job with behavior "exception" stops.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Row } from "@tide/contracts";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;
let jobId: number;

before(async () => {
  stack = await startStack("schema-evolution");
  await stack.source.sql(
    "CREATE TABLE shop.evo (id INT PRIMARY KEY, name VARCHAR(50), qty INT NOT NULL, old_col INT); INSERT INTO shop.evo SELECT seq, CONCAT('n', seq), seq, seq FROM shop.seq_1_to_5000;",
  );
  jobId = await stack.createJob(sourceSpec(stack, "evo", "shop\\.evo"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");
});

after(async () => {
  await stack?.close();
});

function writer(): { stop(): Promise<number> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    const conn = await stack.source.connect("shop");
    let next = 100_000;
    while (running) {
      const r = Math.random();
      if (r < 0.4) await conn.query("INSERT INTO evo (id, qty) VALUES (?, ?)", [next++, 1]);
      else if (r < 0.8) await conn.query("UPDATE evo SET qty = qty + 1 WHERE id = ?", [1 + Math.floor(Math.random() * 5_000)]);
      else await conn.query("DELETE FROM evo WHERE id = ?", [1 + Math.floor(Math.random() * 5_000)]);
      n++;
      await sleep(5);
    }
    await conn.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return n;
    },
  };
}

/** The warehouse equals the source on the source's columns (a lenient drop keeps extra ones). */
async function assertEqualOnSourceColumns(): Promise<void> {
  const source = await sourceRows(stack, "shop", "evo");
  const columns = Object.keys(source[0]!);
  const project = (r: Row) => Object.fromEntries(columns.map((c) => [c, r[c]]));
  const warehouse = (await warehouseRows(stack, "ods", "evo")).map(project);
  assert.deepEqual(digestRows(warehouse), digestRows(source));
}

test("add (in the middle, with a default), rename, drop + add and a widened type, all while writing", async () => {
  const writes = writer();
  await sleep(500);
  await stack.source.sql("ALTER TABLE shop.evo ADD COLUMN note VARCHAR(20) DEFAULT 'n/a' AFTER id");
  await sleep(300);
  await stack.source.sql("ALTER TABLE shop.evo RENAME COLUMN name TO title");
  await sleep(300);
  await stack.source.sql("ALTER TABLE shop.evo DROP COLUMN old_col, ADD COLUMN extra INT");
  await sleep(300);
  await stack.source.sql("ALTER TABLE shop.evo MODIFY qty BIGINT NOT NULL");
  await sleep(300);
  await stack.source.sql("ALTER TABLE shop.evo ADD INDEX by_qty (qty)");
  await sleep(500);
  assert.ok((await writes.stop()) > 50);
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();
  await assertEqualOnSourceColumns();

  const history = await stack.prisma.schemaChangeRecord.findMany({ where: { jobId }, orderBy: { id: "asc" } });
  assert.deepEqual(
    history.map((h) => `${h.kind}:${h.outcome}`),
    ["add_column:applied", "rename_column:applied", "drop_column:ignored", "add_column:applied", "modify_column:applied", "ignored:ignored"],
  );
  const rename = history[1]!;
  assert.deepEqual((rename.columnsBefore as { name: string }[]).map((c) => c.name), ["id", "name", "qty", "old_col", "note"]);
  assert.deepEqual((rename.columnsAfter as { name: string }[]).map((c) => c.name), ["id", "title", "qty", "old_col", "note"]);
  assert.ok(history.filter((h) => h.outcome === "applied").every((h) => h.durationMs < 1_000), history.map((h) => h.durationMs).join(","));
  assert.match(history[2]!.detail ?? "", /kept/);
});

test("a job stopped before a series of ALTERs ends equal to the source after it starts again", async () => {
  await stack.source.sql("INSERT INTO shop.evo (id, qty, title) VALUES (200001, 5, 'before')");
  await stack.source.sql("ALTER TABLE shop.evo ADD COLUMN c2 INT NOT NULL DEFAULT 7");
  await stack.source.sql("INSERT INTO shop.evo (id, qty, c2) VALUES (200002, 6, 8)");
  await stack.source.sql("ALTER TABLE shop.evo RENAME COLUMN title TO heading");
  await stack.source.sql("UPDATE shop.evo SET heading = 'after' WHERE id = 200001");
  await stack.source.sql("ALTER TABLE shop.evo DROP COLUMN extra, ADD COLUMN extra2 VARCHAR(5) DEFAULT 'e2'");
  await stack.source.sql("INSERT INTO shop.evo (id, qty) VALUES (200003, 7)");
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();
  await assertEqualOnSourceColumns();
  await stack.startWorker();
});

test("behavior exception: the job stops at the first schema change and says why", async () => {
  await stack.source.sql("CREATE TABLE shop.strict (id INT PRIMARY KEY, v INT); INSERT INTO shop.strict VALUES (1, 1);");
  const spec = sourceSpec(stack, "strict", "shop\\.strict");
  const strict = await stack.createJob({ ...spec, pipeline: { name: "strict", "schema.change.behavior": "EXCEPTION" } });
  await waitForState(stack, strict, "streaming");
  await stack.source.sql("ALTER TABLE shop.strict ADD COLUMN w INT");
  await waitForState(stack, strict, "failed");
  const job = await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: strict } });
  assert.match(job.lastError ?? "", /shop\.strict \(add column\).*schema\.change\.behavior is exception/);
});

/** A job with the given behavior on a fresh table `shop.<name>` (id, v VARCHAR, n INT), streaming. */
async function jobWithBehavior(name: string, behavior: string): Promise<number> {
  await stack.source.sql(`CREATE TABLE shop.${name} (id INT PRIMARY KEY, v VARCHAR(20), n INT); INSERT INTO shop.${name} VALUES (1, 'one', 1), (2, 'two', 2);`);
  const spec = sourceSpec(stack, name, `shop\\.${name}`);
  const id = await stack.createJob({ ...spec, pipeline: { name, "schema.change.behavior": behavior } });
  await waitForState(stack, id, "streaming");
  return id;
}

async function history(job: number): Promise<string[]> {
  return (await stack.prisma.schemaChangeRecord.findMany({ where: { jobId: job }, orderBy: { id: "asc" } })).map((h) => `${h.kind}:${h.outcome}`);
}

async function warehouseColumns(table: string): Promise<string[]> {
  await stack.stopWorker();
  const rows = await warehouseRows(stack, "ods", table);
  await stack.startWorker();
  return Object.keys(rows[0] ?? {}).sort();
}

test("behaviors evolve, try_evolve and ignore act as documented; TRUNCATE empties the table", async () => {
  const evolve = await jobWithBehavior("b_evolve", "evolve");
  const tryEvolve = await jobWithBehavior("b_try", "try_evolve");
  const ignore = await jobWithBehavior("b_ignore", "ignore");

  // evolve drops for real; a change it cannot apply stops the job.
  await stack.source.sql("ALTER TABLE shop.b_evolve DROP COLUMN n");
  await stack.source.sql("INSERT INTO shop.b_evolve VALUES (3, 'three')");
  await waitCaughtUp(stack, evolve);
  assert.deepEqual(await warehouseColumns("b_evolve"), ["id", "v"]);
  await waitForState(stack, evolve, "streaming");
  await stack.source.sql("ALTER TABLE shop.b_evolve MODIFY id BIGINT"); // DuckDB cannot retype a primary-key column
  await waitForState(stack, evolve, "failed");
  assert.match((await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: evolve } })).lastError ?? "", /could not be applied.*behavior is evolve/s);

  // try_evolve tolerates the same failure and keeps streaming.
  await stack.source.sql("ALTER TABLE shop.b_try MODIFY id BIGINT");
  await stack.source.sql("ALTER TABLE shop.b_try ADD COLUMN w INT DEFAULT 5");
  await waitCaughtUp(stack, tryEvolve);
  assert.deepEqual(await history(tryEvolve), ["modify_column:failed", "add_column:applied"]);
  await waitForState(stack, tryEvolve, "streaming");

  // ignore records the change and leaves the warehouse table as it was; rows keep flowing.
  await stack.source.sql("ALTER TABLE shop.b_ignore ADD COLUMN w INT DEFAULT 5");
  await stack.source.sql("INSERT INTO shop.b_ignore VALUES (3, 'three', 3, 9)");
  await waitCaughtUp(stack, ignore);
  assert.deepEqual(await history(ignore), ["add_column:ignored"]);
  assert.deepEqual(await warehouseColumns("b_ignore"), ["id", "n", "v"]);

  // TRUNCATE (lenient, like every default job) empties the warehouse table too.
  await stack.source.sql("TRUNCATE TABLE shop.b_try");
  await stack.source.sql("INSERT INTO shop.b_try (id, v, n, w) VALUES (10, 'fresh', 0, 1)");
  await waitCaughtUp(stack, tryEvolve);
  await stack.stopWorker();
  assert.deepEqual((await warehouseRows(stack, "ods", "b_try")).map((r) => r.id), [10]);
  await stack.startWorker();
});

test("lenient: a type the stored values cannot take becomes a new column; narrowing and widening are told apart", async () => {
  const lenient = await jobWithBehavior("b_lenient", "lenient");
  await stack.source.sql("UPDATE shop.b_lenient SET n = 20240105 + id");
  // MariaDB turns the integers into dates; DuckDB has no INTEGER → DATE cast.
  await stack.source.sql("ALTER TABLE shop.b_lenient MODIFY n DATE");
  await stack.source.sql("INSERT INTO shop.b_lenient VALUES (3, 'three', '2024-03-01')");
  await stack.source.sql("ALTER TABLE shop.b_lenient MODIFY v VARCHAR(40)");
  await stack.source.sql("ALTER TABLE shop.b_lenient MODIFY v VARCHAR(10)");
  await waitCaughtUp(stack, lenient);
  const records = await stack.prisma.schemaChangeRecord.findMany({ where: { jobId: lenient }, orderBy: { id: "asc" } });
  assert.deepEqual(records.map((r) => `${r.kind}:${r.outcome}:${(r.detail ?? "").split(":")[0]}`), [
    "modify_column:applied:incompatible",
    "modify_column:applied:widening",
    "modify_column:applied:narrowing",
  ]);
  assert.match(records[0]!.detail ?? "", /stay in n__integer and n is a new DATE column/);
  await stack.stopWorker();
  const rows = (await warehouseRows(stack, "ods", "b_lenient")).sort((a, b) => Number(a.id) - Number(b.id));
  await stack.startWorker();
  assert.deepEqual(rows, [
    { id: 1, v: "one", n__integer: 20240106, n: null },
    { id: 2, v: "two", n__integer: 20240107, n: null },
    { id: 3, v: "three", n__integer: null, n: "2024-03-01" },
  ]);
});
