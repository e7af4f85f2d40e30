// Chunk planning against a real source, and the rule that merges binlog
// changes into chunks read at different positions.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { readTableSchema } from "@tide/cdc-mysql";
import { LocalMariadb } from "@tide/local-mariadb";
import { filterByPlan, planTable, type TableSnapshotPlan } from "../src/chunked-snapshot";

let db: LocalMariadb;
const source = () => ({ host: "127.0.0.1", port: db.port, user: "root", password: "" });

before(async () => {
  db = await LocalMariadb.start({ dataDir: resolve(import.meta.dirname, "../../../.test-data/runtime-chunks"), fresh: true });
  await db.sql(`CREATE DATABASE s;
    CREATE TABLE s.even (id INT PRIMARY KEY, v INT); INSERT INTO s.even SELECT seq, seq FROM s.seq_1_to_10000;
    CREATE TABLE s.skewed (id BIGINT PRIMARY KEY, v INT);
    INSERT INTO s.skewed SELECT seq, 0 FROM s.seq_1_to_1000;
    INSERT INTO s.skewed SELECT 1000000000 + seq, 0 FROM s.seq_1_to_1000;
    INSERT INTO s.skewed VALUES (5000000000000, 0);
    CREATE TABLE s.named (code VARCHAR(10) PRIMARY KEY, v INT); INSERT INTO s.named VALUES ('a', 1);`);
});

after(async () => {
  await db?.stop();
});

async function rowsPerChunk(table: string, plan: TableSnapshotPlan): Promise<number[]> {
  const counts: number[] = [];
  for (const c of plan.chunks) {
    const where = [c.from !== undefined ? `id >= ${c.from}` : "", c.to !== undefined ? `id < ${c.to}` : ""].filter(Boolean).join(" AND ");
    const [row] = (await db.sql(`SELECT COUNT(*) AS n FROM s.${table}${where ? ` WHERE ${where}` : ""}`)) as { n: number | string }[];
    counts.push(Number(row!.n));
  }
  return counts;
}

function assertContiguous(plan: TableSnapshotPlan): void {
  assert.equal(plan.chunks[0]!.from, undefined, "the first range is open below");
  assert.equal(plan.chunks[plan.chunks.length - 1]!.to, undefined, "the last range is open above");
  for (let i = 1; i < plan.chunks.length; i++) assert.equal(plan.chunks[i]!.from, plan.chunks[i - 1]!.to, `ranges ${i - 1} and ${i} meet`);
}

test("even keys split evenly; skewed keys split where the rows are; other keys read whole", async () => {
  const even = await planTable(source(), await readTableSchema(source(), "s", "even"), ["id"], 1_000);
  assertContiguous(even);
  const evenCounts = await rowsPerChunk("even", even);
  assert.equal(evenCounts.reduce((a, b) => a + b, 0), 10_000);
  assert.ok(Math.max(...evenCounts) <= 1_000, evenCounts.join(","));

  const skewed = await planTable(source(), await readTableSchema(source(), "s", "skewed"), ["id"], 500);
  assertContiguous(skewed);
  const skewedCounts = await rowsPerChunk("skewed", skewed);
  assert.equal(skewedCounts.reduce((a, b) => a + b, 0), 2_001);
  assert.ok(Math.max(...skewedCounts) <= 500, skewedCounts.join(","));
  assert.ok(skewed.chunks.length <= 10, `${skewed.chunks.length} ranges for 2,001 rows`);

  const named = await planTable(source(), await readTableSchema(source(), "s", "named"), ["code"], 500);
  assert.deepEqual(named, { chunks: [{}] });
});

test("a change counts only once it is newer than the read of its key's range; a moved key is judged per half", () => {
  const at = (pos: number) => ({ file: "mysql-bin.000001", pos });
  const plan: TableSnapshotPlan = { keyColumn: "id", chunks: [{ to: "1" }, { from: "1", to: "100", readAt: at(500) }, { from: "100", to: "200" }, { from: "200" }] };
  assert.deepEqual(filterByPlan(plan, [{ op: "insert", after: { id: 5 } }], at(400)), [], "older than the read");
  assert.deepEqual(filterByPlan(plan, [{ op: "insert", after: { id: 5 } }], at(600)), [{ op: "insert", after: { id: 5 } }]);
  assert.deepEqual(filterByPlan(plan, [{ op: "insert", after: { id: 150 } }], at(600)), [], "range not read yet: the read will see it");
  assert.deepEqual(filterByPlan(plan, [{ op: "update", before: { id: 5 }, after: { id: 150 } }], at(600)), [{ op: "delete", before: { id: 5 } }]);
});
