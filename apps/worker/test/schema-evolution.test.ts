// The source's DDL followed while a writer keeps writing: a column added in
// the middle with a default, a rename, a drop plus an add in one ALTER, a type
// widened; then a series of ALTERs (one adding a column AFTER id) made while the
// job was stopped. The warehouse ends equal to the source (a dropped column is
// kept, lenient), and the history records each change. Then each behavior, the
// include/exclude lists, CHANGE/narrowing MODIFY/DROP/TRUNCATE under a writer
// (evolve), RENAME TABLE and DROP TABLE of followed tables, and a statement that
// cannot be understood (recorded as failed; evolve stops).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Warehouse } from "@tide/warehouse";
import type { PipelineSpecInput, Row } from "@tide/contracts";
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

/**
 * Inserts, updates and deletes rows of `shop.<table>` until stopped. `column` is the integer
 * column it writes (the test renames it on the way); statements that race a rename fail with
 * ER_BAD_FIELD_ERROR and are skipped.
 */
function writer(table = "evo", options: { column?: string; firstId?: number } = {}): { column: string; stop(): Promise<number> } {
  let running = true;
  let n = 0;
  const state = { column: options.column ?? "qty" };
  const loop = (async () => {
    const conn = await stack.source.connect("shop");
    const first = options.firstId ?? 100_000;
    let next = first;
    while (running) {
      const r = Math.random();
      // Updates and deletes pick from the seed rows and the writer's own (which survive a TRUNCATE).
      const id = Math.random() < 0.5 ? 1 + Math.floor(Math.random() * 5_000) : first + Math.floor(Math.random() * Math.max(1, next - first));
      try {
        if (r < 0.4) await conn.query(`INSERT INTO \`${table}\` (id, \`${state.column}\`) VALUES (?, ?)`, [next++, 1]);
        else if (r < 0.8) await conn.query(`UPDATE \`${table}\` SET \`${state.column}\` = \`${state.column}\` + 1 WHERE id = ?`, [id]);
        else await conn.query(`DELETE FROM \`${table}\` WHERE id = ?`, [id]);
        n++;
      } catch (error) {
        if ((error as { code?: string }).code !== "ER_BAD_FIELD_ERROR") throw error;
      }
      await sleep(5);
    }
    await conn.end();
  })();
  return Object.assign(state, {
    async stop() {
      running = false;
      await loop;
      return n;
    },
  });
}

/** Runs `work` with the worker stopped (it owns the DuckDB file), then starts it again. */
async function withWorkerStopped<T>(work: () => Promise<T>): Promise<T> {
  await stack.stopWorker();
  try {
    return await work();
  } finally {
    await stack.startWorker();
  }
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
  // Marker rows for the lenient drop: one left alone, one written again after the drop.
  await stack.source.sql("INSERT INTO shop.evo (id, qty, old_col) VALUES (90001, 1, 42), (90003, 1, 43)");
  await stack.source.sql("ALTER TABLE shop.evo DROP COLUMN old_col, ADD COLUMN extra INT");
  await stack.source.sql("INSERT INTO shop.evo (id, qty) VALUES (90002, 1); UPDATE shop.evo SET qty = 2 WHERE id = 90003");
  await sleep(300);
  await stack.source.sql("ALTER TABLE shop.evo MODIFY qty BIGINT NOT NULL");
  await sleep(300);
  await stack.source.sql("ALTER TABLE shop.evo ADD INDEX by_qty (qty)");
  await sleep(500);
  assert.ok((await writes.stop()) > 50);
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();
  await assertEqualOnSourceColumns();
  // Lenient kept old_col: a row untouched since keeps its value, rows written after the drop have NULL.
  const markers = (await warehouseRows(stack, "ods", "evo")).filter((r) => Number(r.id) >= 90001 && Number(r.id) <= 90003);
  assert.deepEqual(markers.map((r) => [r.id, r.old_col]).sort((a, b) => Number(a[0]) - Number(b[0])), [[90001, 42], [90002, null], [90003, null]]);

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
  // Added in the middle and at the front while the job is down: rows before read the old shape, rows after the new.
  await stack.source.sql("INSERT INTO shop.evo (id, qty, heading) VALUES (200004, 8, 'pre-mid')");
  await stack.source.sql("ALTER TABLE shop.evo ADD COLUMN mid INT DEFAULT 3 AFTER id, ADD COLUMN front VARCHAR(4) FIRST");
  await stack.source.sql("INSERT INTO shop.evo (id, qty, mid, front) VALUES (200005, 9, 11, 'f')");
  await stack.source.sql("UPDATE shop.evo SET mid = 12, qty = 10 WHERE id = 200004");
  await stack.source.sql("UPDATE shop.evo SET front = 'g' WHERE id = 200001");
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming");
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();
  await assertEqualOnSourceColumns();
  const rows = new Map((await warehouseRows(stack, "ods", "evo")).map((r) => [Number(r.id), r]));
  assert.deepEqual([rows.get(200001)?.front, rows.get(200001)?.mid, rows.get(200004)?.mid, rows.get(200005)?.mid, rows.get(200003)?.mid], ["g", 3, 12, 11, 3]);
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
async function jobWithBehavior(name: string, behavior: string, extra: Partial<PipelineSpecInput> = {}, tables = `shop\\.${name}`): Promise<number> {
  await stack.source.sql(`CREATE TABLE shop.${name} (id INT PRIMARY KEY, v VARCHAR(20), n INT); INSERT INTO shop.${name} VALUES (1, 'one', 1), (2, 'two', 2);`);
  const spec = sourceSpec(stack, name, tables, extra);
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

async function records(job: number) {
  return stack.prisma.schemaChangeRecord.findMany({ where: { jobId: job }, orderBy: { id: "asc" } });
}

/** Waits until the job lists `shop.<table>` as streaming (a table that joined has been copied). */
async function waitTableStreaming(job: number, table: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const t = await stack.prisma.syncJobTable.findFirst({ where: { jobId: job, sourceDatabase: "shop", sourceTable: table } });
    if (t?.phase === "streaming") return;
    await sleep(200);
  }
  throw new Error(`shop.${table} did not reach streaming in job ${job}`);
}

/** The warehouse tables under `ods` whose name starts with `prefix`. */
async function odsTables(prefix: string): Promise<string[]> {
  const warehouse = await Warehouse.open(join(stack.env.TIDE_DATA_DIR!, "warehouse.duckdb"));
  try {
    return (await warehouse.listTables()).filter((t) => t.schema === "ods" && t.table.startsWith(prefix)).map((t) => t.table).sort();
  } finally {
    await warehouse.close();
  }
}

test("include/exclude.schema.changes: an excluded drop and a kind not included are recorded as ignored, with the reason", async () => {
  const excluding = await jobWithBehavior("f_excl", "evolve", { sink: { "exclude.schema.changes": ["drop_column"] } });
  const including = await jobWithBehavior("f_incl", "evolve", { sink: { "include.schema.changes": ["add_column"] } });
  await stack.source.sql("ALTER TABLE shop.f_excl DROP COLUMN n, ADD COLUMN w INT DEFAULT 4");
  await stack.source.sql("INSERT INTO shop.f_excl (id, v, w) VALUES (3, 'three', 5)");
  await stack.source.sql("ALTER TABLE shop.f_incl ADD COLUMN w INT DEFAULT 4");
  await stack.source.sql("ALTER TABLE shop.f_incl RENAME COLUMN v TO v2, MODIFY n BIGINT");
  await waitCaughtUp(stack, excluding);
  await waitCaughtUp(stack, including);

  const excluded = await records(excluding);
  assert.deepEqual(excluded.map((r) => `${r.kind}:${r.outcome}`), ["drop_column:ignored", "add_column:applied"]);
  assert.match(excluded[0]!.detail ?? "", /drop_column is in the job's exclude\.schema\.changes/);
  const included = await records(including);
  assert.deepEqual(included.map((r) => `${r.kind}:${r.outcome}`), ["add_column:applied", "rename_column:ignored", "modify_column:ignored"]);
  assert.match(included[1]!.detail ?? "", /rename_column is not in the job's include\.schema\.changes \(add_column\)/);

  const [excl, incl] = await withWorkerStopped(async () => [await warehouseRows(stack, "ods", "f_excl"), await warehouseRows(stack, "ods", "f_incl")]);
  // The excluded drop left n in place (NULL for the row written after it); evolve would have dropped it.
  assert.deepEqual(excl.sort((a, b) => Number(a.id) - Number(b.id)), [
    { id: 1, v: "one", n: 1, w: 4 },
    { id: 2, v: "two", n: 2, w: 4 },
    { id: 3, v: "three", n: null, w: 5 },
  ]);
  assert.deepEqual(Object.keys(incl[0]!).sort(), ["id", "n", "v", "w"]);
});

test("evolve under a writer: CHANGE (rename and type), a narrowing MODIFY, a real DROP and TRUNCATE; equal afterwards", async () => {
  await stack.source.sql(
    "CREATE TABLE shop.w_evo (id INT PRIMARY KEY, qty INT NOT NULL DEFAULT 0, label VARCHAR(20), spare INT); INSERT INTO shop.w_evo SELECT seq, seq, CONCAT('l', seq), seq FROM shop.seq_1_to_5000;",
  );
  const job = await stack.createJob({ ...sourceSpec(stack, "w_evo", "shop\\.w_evo"), pipeline: { name: "w_evo", "schema.change.behavior": "evolve" } });
  await waitForState(stack, job, "streaming");
  const writes = writer("w_evo");
  await sleep(400);
  await stack.source.sql("ALTER TABLE shop.w_evo CHANGE qty amount BIGINT NOT NULL DEFAULT 0");
  writes.column = "amount";
  await sleep(400);
  await stack.source.sql("ALTER TABLE shop.w_evo MODIFY amount INT NOT NULL DEFAULT 0"); // narrowing; every value fits
  await sleep(400);
  await stack.source.sql("ALTER TABLE shop.w_evo DROP COLUMN spare");
  await sleep(400);
  await stack.source.sql("TRUNCATE TABLE shop.w_evo");
  await sleep(600);
  assert.ok((await writes.stop()) > 50);
  await waitCaughtUp(stack, job);
  const history = await records(job);
  assert.deepEqual(history.map((r) => `${r.kind}:${r.outcome}`), ["modify_column:applied", "modify_column:applied", "drop_column:applied", "truncate_table:applied"]);
  assert.match(history[0]!.detail ?? "", /^widening: amount int(\(11\))? → bigint/);
  assert.match(history[1]!.detail ?? "", /^narrowing: amount bigint → int/);
  const source = await sourceRows(stack, "shop", "w_evo");
  assert.ok(source.length > 0, "the writer wrote after the TRUNCATE");
  const warehouse = await withWorkerStopped(() => warehouseRows(stack, "ods", "w_evo"));
  // Every column, not just the source's: evolve leaves none behind.
  assert.deepEqual(Object.keys(warehouse[0]!).sort(), ["amount", "id", "label"]);
  assert.deepEqual(digestRows(warehouse), digestRows(source));
});

test("RENAME TABLE and DROP TABLE of followed tables: evolve renames and drops the warehouse table, lenient keeps it", async () => {
  // rt_keep/rl_keep stay (a job whose pattern matches no table fails); rt_c is dropped and created again.
  await stack.source.sql(
    "CREATE TABLE shop.rt_keep (id INT PRIMARY KEY); CREATE TABLE shop.rl_keep (id INT PRIMARY KEY);" +
      "CREATE TABLE shop.rt_d (id INT PRIMARY KEY, v INT); CREATE TABLE shop.rl_d (id INT PRIMARY KEY, v INT); INSERT INTO shop.rt_d VALUES (1, 1); INSERT INTO shop.rl_d VALUES (1, 1);" +
      "CREATE TABLE shop.rt_c (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO shop.rt_c VALUES (1, 'old');",
  );
  const evolve = await jobWithBehavior("rt_a", "evolve", {}, "shop\\.rt_.*");
  const lenient = await jobWithBehavior("rl_a", "lenient", {}, "shop\\.rl_.*");
  await stack.source.sql("RENAME TABLE shop.rt_a TO shop.rt_b, shop.rl_a TO shop.rl_b");
  await stack.source.sql("INSERT INTO shop.rt_b VALUES (3, 'three', 3); INSERT INTO shop.rl_b VALUES (3, 'three', 3); UPDATE shop.rl_b SET v = 'uno' WHERE id = 1;");
  // The new names match the jobs' patterns: they join (copied by a snapshot) at the next table check.
  await waitTableStreaming(evolve, "rt_b");
  await waitTableStreaming(lenient, "rl_b");
  await stack.source.sql("DROP TABLE shop.rt_d, shop.rl_d");
  // Dropped and created again with another shape at once: the evolve job follows the new table.
  await stack.source.sql("DROP TABLE shop.rt_c; CREATE TABLE shop.rt_c (id INT PRIMARY KEY, w INT NOT NULL, v VARCHAR(5)); INSERT INTO shop.rt_c VALUES (7, 70, 'new');");
  await waitCaughtUp(stack, evolve);
  await waitCaughtUp(stack, lenient);
  await waitTableStreaming(evolve, "rt_c");
  await waitCaughtUp(stack, evolve);

  const evolved = await records(evolve);
  assert.deepEqual(evolved.slice(0, 3).map((r) => `${r.kind}:${r.sourceTable}:${r.outcome}`), ["rename_table:rt_a:applied", "drop_table:rt_d:applied", "drop_table:rt_c:applied"]);
  assert.match(evolved[0]!.detail ?? "", /renamed ods\.rt_a to ods\.rt_b/);
  // Created again: made at once from the statement's columns, or (if the table check saw it gone first) joined by a snapshot.
  assert.match(`${evolved[3]?.kind}:${evolved[3]?.outcome}`, /^create_table:(applied|ignored)$/);
  const kept = await records(lenient);
  assert.deepEqual(kept.map((r) => `${r.kind}:${r.sourceTable}:${r.outcome}`), ["rename_table:rl_a:ignored", "drop_table:rl_d:ignored"]);
  assert.match(kept[0]!.detail ?? "", /keeps its name and rows/);
  assert.match(kept[1]!.detail ?? "", /warehouse table and its rows are kept/);

  await withWorkerStopped(async () => {
    assert.deepEqual(await odsTables("rt_"), ["rt_b", "rt_c", "rt_keep"]);
    assert.deepEqual(await odsTables("rl_"), ["rl_a", "rl_b", "rl_d", "rl_keep"]);
    assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "rt_b")), digestRows(await sourceRows(stack, "shop", "rt_b")));
    assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "rl_b")), digestRows(await sourceRows(stack, "shop", "rl_b")));
    assert.deepEqual((await warehouseRows(stack, "ods", "rl_a")).map((r) => r.v).sort(), ["one", "two"]); // as it was at the rename
    assert.deepEqual(await warehouseRows(stack, "ods", "rl_d"), [{ id: 1, v: 1 }]);
    assert.deepEqual(await warehouseRows(stack, "ods", "rt_c"), [{ id: 7, w: 70, v: "new" }]);
  });
});

test("a statement it cannot understand on a followed table: recorded as failed; lenient goes on, evolve stops with the statement", async () => {
  // TRUNCATE PARTITION removes rows without row events: it cannot be followed, only reported.
  for (const name of ["u_len", "u_evo"]) {
    await stack.source.sql(`CREATE TABLE shop.${name} (id INT PRIMARY KEY, v INT) PARTITION BY HASH (id) PARTITIONS 2; INSERT INTO shop.${name} VALUES (1, 1), (2, 2), (3, 3);`);
  }
  const lenient = await stack.createJob({ ...sourceSpec(stack, "u_len", "shop\\.u_len"), pipeline: { name: "u_len", "schema.change.behavior": "lenient" } });
  const evolve = await stack.createJob({ ...sourceSpec(stack, "u_evo", "shop\\.u_evo"), pipeline: { name: "u_evo", "schema.change.behavior": "evolve" } });
  await waitForState(stack, lenient, "streaming");
  await waitForState(stack, evolve, "streaming");
  await stack.source.sql("ALTER TABLE shop.u_len TRUNCATE PARTITION p0; INSERT INTO shop.u_len VALUES (10, 10);");
  await stack.source.sql("ALTER TABLE shop.u_evo TRUNCATE PARTITION p0");
  await waitForState(stack, evolve, "failed");
  await waitCaughtUp(stack, lenient);
  for (const job of [lenient, evolve]) {
    const [record, ...more] = await records(job);
    assert.equal(more.length, 0);
    assert.equal(`${record!.kind}:${record!.outcome}`, "unknown:failed");
    assert.match(record!.detail ?? "", /^not understood: TRUNCATE PARTITION/);
    assert.match(record!.statement, /TRUNCATE PARTITION p0/);
  }
  assert.match(
    (await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: evolve } })).lastError ?? "",
    /shop\.u_evo was not understood: TRUNCATE PARTITION.*\(ALTER TABLE shop\.u_evo TRUNCATE PARTITION p0\).*behavior is evolve/,
  );
  assert.equal((await stack.prisma.syncJob.findUniqueOrThrow({ where: { id: lenient } })).actualState, "streaming");
  // The lenient job went on: the row written after the statement arrived.
  const rows = await withWorkerStopped(() => warehouseRows(stack, "ods", "u_len"));
  assert.ok(rows.some((r) => r.id === 10));
});
