// Chunk planning against a real source, and the rule that merges binlog
// changes into chunks read at different positions.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { CollationWeigher, ConsistentSnapshot, readTableSchema } from "@tide/cdc-mysql";
import type { Row } from "@tide/contracts";
import { LocalMariadb } from "@tide/local-mariadb";
import { chunkRange, compareDecimals, filterByPlan, planTable, rangeIndexOf, type TableSnapshotPlan } from "../src/chunked-snapshot";

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

test("even keys split evenly; skewed keys split where the rows are; a table of one row is one range", async () => {
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
  assert.deepEqual(named.chunks, [{}]);
});

test("a change counts only once it is newer than the read of its key's range; a moved key is judged per half", () => {
  const at = (pos: number) => ({ file: "mysql-bin.000001", pos });
  const plan: TableSnapshotPlan = { keyColumn: "id", chunks: [{ to: "1" }, { from: "1", to: "100", readAt: at(500) }, { from: "100", to: "200" }, { from: "200" }] };
  assert.deepEqual(filterByPlan(plan, [{ op: "insert", after: { id: 5 } }], at(400)), [], "older than the read");
  assert.deepEqual(filterByPlan(plan, [{ op: "insert", after: { id: 5 } }], at(600)), [{ op: "insert", after: { id: 5 } }]);
  assert.deepEqual(filterByPlan(plan, [{ op: "insert", after: { id: 150 } }], at(600)), [], "range not read yet: the read will see it");
  assert.deepEqual(filterByPlan(plan, [{ op: "update", before: { id: 5 }, after: { id: 150 } }], at(600)), [{ op: "delete", before: { id: 5 } }]);
});

/** Random strings over characters whose order differs between collations and bytes (case, accents, expansions, emoji, spaces). */
function trickyStrings(count: number, alphabet: string[], seed = 7): string[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = "";
    for (let n = 1 + Math.floor(next() * 7); n > 0; n--) s += alphabet[Math.floor(next() * alphabet.length)];
    out.push(s);
  }
  return out;
}

async function insertAll(table: string, values: unknown[]): Promise<void> {
  for (let i = 0; i < values.length; i += 500) {
    const part = values.slice(i, i + 500);
    await db.sql(`INSERT IGNORE INTO s.${table} VALUES ${part.map(() => "(?)").join(", ")}`, part);
  }
}

/** Reads each planned range from the source and checks every row's range is the one rangeIndexOf picks. */
async function assertRangesMatchSource(table: string, plan: TableSnapshotPlan): Promise<void> {
  const schema = await readTableSchema(source(), "s", table);
  const snapshot = await ConsistentSnapshot.open(source(), { position: false });
  const weigher = plan.keyOrder?.kind === "collated" ? await CollationWeigher.open(source(), plan.keyOrder) : undefined;
  try {
    let total = 0;
    for (let i = 0; i < plan.chunks.length; i++) {
      const rows: Row[] = [];
      await snapshot.readTable(schema, 1_000, async (batch) => void rows.push(...batch), chunkRange(plan, plan.chunks[i]!));
      const keys = rows.map((r) => r[plan.keyColumn!]);
      const found = weigher ? await weigher.weigh(keys.map(String)) : [];
      const weights = new Map(keys.map((k, j) => [String(k), found[j]!]));
      for (const key of keys) assert.equal(rangeIndexOf(plan, key, weigher ? weights : undefined), i, `${table}: ${JSON.stringify(key)} was read in range ${i}`);
      total += rows.length;
    }
    const [row] = (await db.sql(`SELECT COUNT(*) AS n FROM s.${table}`)) as { n: number | string }[];
    assert.equal(total, Number(row!.n), `${table}: the ranges hold every row once`);
  } finally {
    await snapshot.close();
    await weigher?.close();
  }
}

test("character, decimal, date and binary keys split on the key index; every row falls in the range the source reads it in", async () => {
  const unicode = ["a", "A", "b", "B", "e", "é", "É", "ß", "s", "S", "z", "Z", "0", "9", "-", "_", " ", "\t", "Ω", "ç", "😀", "🚀"];
  const latin = ["a", "A", "b", "é", "É", "ß", "s", "z", "0", "-", "_", " ", "\t", "ç", "Ø", "å"];
  await db.sql(`CREATE TABLE s.words_ci (w VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY);
    CREATE TABLE s.words_uca (w VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PRIMARY KEY);
    CREATE TABLE s.words_bin (w CHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY);
    CREATE TABLE s.words_nopad (w VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_nopad_ci PRIMARY KEY);
    CREATE TABLE s.words_latin (w VARCHAR(12) CHARACTER SET latin1 COLLATE latin1_swedish_ci PRIMARY KEY);
    CREATE TABLE s.words_as_cs (w VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_as_cs PRIMARY KEY);
    CREATE TABLE s.prices (p DECIMAL(65,30) PRIMARY KEY);
    CREATE TABLE s.moments (at DATETIME(6) PRIMARY KEY);
    CREATE TABLE s.blobs (b VARBINARY(6) PRIMARY KEY);
    CREATE TABLE s.coded (code CHAR(2) NOT NULL, n INT NOT NULL, PRIMARY KEY (code, n));`);
  for (const table of ["words_ci", "words_uca", "words_bin", "words_nopad", "words_as_cs"]) await insertAll(table, trickyStrings(3_000, unicode));
  await insertAll("words_latin", trickyStrings(3_000, latin));
  await db.sql(`INSERT INTO s.prices SELECT (CAST(seq AS SIGNED) - 1500) * 1234567890123456789.000000000000000000000000000007 / 7 FROM s.seq_1_to_3000;
    INSERT INTO s.moments SELECT TIMESTAMP'1999-12-31 23:59:59.999999' + INTERVAL seq * 7777 SECOND_MICROSECOND + INTERVAL seq * 3 HOUR FROM s.seq_1_to_3000;
    INSERT IGNORE INTO s.blobs SELECT UNHEX(SUBSTR(SHA1(seq), 1, 2 + 2 * (seq % 5))) FROM s.seq_1_to_3000;
    INSERT INTO s.coded SELECT CHAR(65 + seq % 7, 97 + seq % 3), seq FROM s.seq_1_to_3000;`);

  for (const table of ["words_ci", "words_uca", "words_bin", "words_nopad", "words_latin", "prices", "moments", "blobs", "coded"]) {
    const schema = await readTableSchema(source(), "s", table);
    const plan = await planTable(source(), schema, schema.primaryKey, 150);
    assertContiguous(plan);
    assert.ok(plan.chunks.length >= (table === "coded" ? 8 : 12), `${table}: split into ${plan.chunks.length} ranges`);
    await assertRangesMatchSource(table, plan);
  }
  // Weights on two levels (accents, then case) are not one byte comparison: read as one range.
  const multiLevel = await planTable(source(), await readTableSchema(source(), "s", "words_as_cs"), ["w"], 150);
  assert.deepEqual(multiLevel.chunks, [{}]);
  assert.equal(multiLevel.keyColumn, undefined);
});

test("decimal strings compare by value", () => {
  const sorted = ["-100.5", "-99.999", "-1", "-0.5", "0", "0.000001", "0.5", "1", "1.5", "10", "99.99"];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) assert.equal(compareDecimals(sorted[i]!, sorted[j]!), Math.sign(i - j), `${sorted[i]} vs ${sorted[j]}`);
  }
  assert.equal(compareDecimals("-0.000", "0"), 0);
  assert.equal(compareDecimals("1.50", "1.5"), 0);
});
