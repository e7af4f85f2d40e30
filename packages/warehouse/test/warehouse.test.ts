// The warehouse against a real DuckDB file: exact round trips of every mapped
// type, keyed change application, the offset committed with the data, and
// users' SQL kept read-only.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidInputError, QueryFailedError, type Row, type SinkTableSpec } from "@tide/contracts";
import { Warehouse } from "../src";

const DIR = resolve(import.meta.dirname, "../../../.test-data/warehouse-test");
let warehouse: Warehouse;

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  warehouse = await Warehouse.open(resolve(DIR, "w.duckdb"));
});

after(async () => {
  await warehouse?.close();
});

const typesSpec: SinkTableSpec = {
  schema: "ods",
  table: "types",
  model: "unique",
  keyColumns: ["id"],
  columns: [
    ["id", "int(11)"], ["big_u", "bigint(20) unsigned"], ["big", "bigint(20)"], ["wide", "decimal(65,30)"], ["money", "decimal(12,2)"],
    ["f", "float"], ["dbl", "double"], ["dt", "date"], ["dtm", "datetime(6)"], ["dts", "datetime"], ["tm", "time"], ["yr", "year(4)"],
    ["s", "varchar(50)"], ["b", "blob"], ["j", "json"], ["e", "enum('a','b')"],
  ].map(([name, mysqlType]) => ({ name: name!, mysqlType: mysqlType!, nullable: true })),
};

const fullRow: Row = {
  id: 1, big_u: "18446744073709551615", big: "-9223372036854775808", wide: "12345678901234567890123456789012345.123456789012345678901234567890",
  money: "12.50", f: 1.1, dbl: 3.141592653589793, dt: "2024-02-29", dtm: "2024-02-29 23:59:59.000001", dts: "2024-02-29 23:59:59",
  tm: "-12:00:00", yr: 2024, s: "héllo 😀 'quoted'", b: Buffer.from([0, 255, 16]), j: '{"big": 12345678901234567890}', e: "b",
};
const nullRow: Row = Object.fromEntries(typesSpec.columns.map((c) => [c.name, c.name === "id" ? 2 : null]));
// MySQL's zero dates have no DuckDB value; they are stored as -infinity and read back as zero dates.
const zeroRow: Row = { ...nullRow, id: 3, dt: "0000-00-00", dtm: "0000-00-00 00:00:00.000000", dts: "0000-00-00 00:00:00", big_u: "0", money: "-0.01", f: -0.5 };

test("every mapped type round-trips exactly", async () => {
  await warehouse.ensureTable(typesSpec);
  await warehouse.appendRows({ jobId: "t", target: typesSpec, rows: [fullRow, nullRow, zeroRow] });
  const rows = (await warehouse.readAll("ods", "types")).sort((a, b) => Number(a.id) - Number(b.id));
  assert.deepEqual(rows, [fullRow, nullRow, zeroRow]);
});

const kv: SinkTableSpec = {
  schema: "ods", table: "kv", model: "unique", keyColumns: ["k"],
  columns: [{ name: "k", mysqlType: "bigint(20)", nullable: false }, { name: "v", mysqlType: "varchar(20)", nullable: true }],
};

test("changes fold per key: upsert, update, key change and delete, with the offset in the same transaction", async () => {
  await warehouse.ensureTable(kv);
  await warehouse.appendRows({ jobId: "j", target: kv, rows: [{ k: "1", v: "a" }, { k: "2", v: "b" }, { k: "3", v: "c" }] });
  await warehouse.applyChanges({
    jobId: "job-1",
    offset: { position: { file: "mysql-bin.000001", pos: 100 } },
    tables: [{
      target: kv,
      changes: [
        { op: "update", before: { k: "1", v: "a" }, after: { k: "1", v: "a2" } },
        { op: "insert", after: { k: "4", v: "d" } },
        { op: "update", before: { k: "2", v: "b" }, after: { k: "20", v: "b" } },
        { op: "delete", before: { k: "3", v: "c" } },
        { op: "insert", after: { k: "3", v: "c again" } },
        { op: "delete", before: { k: "4", v: "d" } },
      ],
    }],
  });
  const rows = (await warehouse.readAll("ods", "kv")).sort((a, b) => Number(a.k) - Number(b.k));
  assert.deepEqual(rows, [{ k: "1", v: "a2" }, { k: "3", v: "c again" }, { k: "20", v: "b" }]);
  assert.deepEqual(await warehouse.readOffset("job-1"), { position: { file: "mysql-bin.000001", pos: 100 } });
});

test("a batch that fails half-way leaves neither its rows nor its offset", async () => {
  const before = await warehouse.readAll("ods", "kv");
  await assert.rejects(
    warehouse.applyChanges({
      jobId: "job-1",
      offset: { position: { file: "mysql-bin.000001", pos: 999 } },
      tables: [{ target: kv, changes: [{ op: "insert", after: { k: "7", v: "x" } }, { op: "insert", after: { k: "not a number", v: "y" } }] }],
    }),
  );
  assert.deepEqual(await warehouse.readAll("ods", "kv"), before);
  assert.deepEqual(await warehouse.readOffset("job-1"), { position: { file: "mysql-bin.000001", pos: 100 } });
});

test("an append-only table keeps every version", async () => {
  const log: SinkTableSpec = { ...kv, table: "log", model: "duplicate", keyColumns: [] };
  await warehouse.ensureTable(log);
  await warehouse.applyChanges({
    jobId: "job-2", offset: {},
    tables: [{ target: log, changes: [{ op: "insert", after: { k: "1", v: "a" } }, { op: "update", before: { k: "1", v: "a" }, after: { k: "1", v: "b" } }, { op: "delete", before: { k: "1", v: "b" } }] }],
  });
  assert.equal((await warehouse.readAll("ods", "log")).length, 2);
});

test("a composite key folds the same way, including a key change", async () => {
  const pair: SinkTableSpec = {
    schema: "ods", table: "pair", model: "unique", keyColumns: ["tenant", "code"],
    columns: [
      { name: "tenant", mysqlType: "int(11)", nullable: false },
      { name: "code", mysqlType: "varchar(20)", nullable: false },
      { name: "qty", mysqlType: "decimal(10,3)", nullable: true },
    ],
  };
  await warehouse.ensureTable(pair);
  await warehouse.appendRows({ jobId: "p", target: pair, rows: [{ tenant: 1, code: "a'b", qty: "1.000" }, { tenant: 1, code: "c", qty: "2.000" }, { tenant: 2, code: "a'b", qty: "3.000" }] });
  await warehouse.applyChanges({
    jobId: "job-p", offset: 1,
    tables: [{
      target: pair,
      changes: [
        { op: "update", before: { tenant: 1, code: "a'b", qty: "1.000" }, after: { tenant: 1, code: "a'b", qty: "1.500" } },
        { op: "update", before: { tenant: 1, code: "c", qty: "2.000" }, after: { tenant: 3, code: "c", qty: "2.000" } },
        { op: "delete", before: { tenant: 2, code: "a'b", qty: "3.000" } },
        { op: "insert", after: { tenant: 2, code: "😀", qty: null } },
      ],
    }],
  });
  const rows = (await warehouse.readAll("ods", "pair")).sort((a, b) => Number(a.tenant) - Number(b.tenant));
  assert.deepEqual(rows, [{ tenant: 1, code: "a'b", qty: "1.500" }, { tenant: 2, code: "😀", qty: null }, { tenant: 3, code: "c", qty: "2.000" }]);
});

test("offsets: an empty batch records only the offset; unknown jobs read undefined; clearOffset removes it", async () => {
  const countBefore = (await warehouse.readAll("ods", "kv")).length;
  await warehouse.applyChanges({ jobId: "job-3", offset: { pos: 7, big: "18446744073709551615" }, tables: [] });
  assert.deepEqual(await warehouse.readOffset("job-3"), { pos: 7, big: "18446744073709551615" });
  assert.equal((await warehouse.readAll("ods", "kv")).length, countBefore);
  assert.equal(await warehouse.readOffset("no-such-job"), undefined);
  await warehouse.clearOffset("job-3");
  assert.equal(await warehouse.readOffset("job-3"), undefined);
});

test("users' SQL is read-only, one statement, JSON-safe and capped", async () => {
  for (const sql of [
    "DELETE FROM ods.kv", "DELETE FROM no_such_table", "UPDATE ods.kv SET v = 'x'", "CREATE TABLE x (a INT)", "DROP TABLE ods.kv",
    "ATTACH 'other.db'", "SELECT 1; SELECT 2", "COPY ods.kv TO 'x.csv'", "SET threads = 1", "INSERT INTO _tide.job_offsets VALUES ('x', '1', NULL)",
    "EXPLAIN ANALYZE DELETE FROM ods.kv", "CHECKPOINT", "BEGIN", "PRAGMA enable_profiling",
  ]) {
    await assert.rejects(warehouse.query(sql), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, `${sql}: ${String(error)}`);
      assert.match(error.message, /Only queries|one statement/, sql);
      return true;
    });
  }
  assert.equal((await warehouse.readAll("ods", "kv")).length, 3, "nothing was deleted");
  await assert.rejects(warehouse.query("SELECT * FROM read_text('/etc/passwd')"), /disabled|permission|external/i);
  await assert.rejects(warehouse.query("SELECT * FROM nope"), (error: unknown) => error instanceof QueryFailedError && /nope/.test(error.message));

  for (const sql of ["SHOW TABLES", "DESCRIBE ods.kv", "SUMMARIZE ods.kv", "FROM ods.kv", "VALUES (1), (2)", "PRAGMA show_tables", "EXPLAIN SELECT * FROM ods.kv", "WITH x AS (SELECT 1 AS a) SELECT * FROM x", "SELECT * FROM _tide.job_offsets"]) {
    const result = await warehouse.query(sql);
    assert.ok(result.columns.length > 0, sql);
  }

  const result = await warehouse.query("SELECT k, v, 12.50::DECIMAL(12,2) AS d FROM ods.kv ORDER BY k", { maxRows: 2 });
  assert.deepEqual(result.columns, [{ name: "k", type: "BIGINT" }, { name: "v", type: "VARCHAR" }, { name: "d", type: "DECIMAL(12,2)" }]);
  assert.deepEqual(result.rows, [["1", "a2", "12.50"], ["3", "c again", "12.50"]]);
  assert.equal(result.rowCount, 3);
  assert.equal(result.truncated, true);
  assert.ok(result.elapsedMs >= 0);

  const big = await warehouse.query("SELECT * FROM range(5000)");
  assert.deepEqual([big.rows.length, big.rowCount, big.truncated], [1000, 5000, true]);

  const values = await warehouse.query(`SELECT 170141183460469231731687303715884105727::HUGEINT AS h, 18446744073709551615::UBIGINT AS u,
    TIMESTAMP '2024-02-29 23:59:59.000001' AS ts, DATE '2024-02-29' AS d, '\\x00\\xFF'::BLOB AS b,
    [1::BIGINT, 2] AS l, {'n': 9007199254740993::BIGINT, 'd': 1.5::DECIMAL(4,2)} AS s, 'NaN'::DOUBLE AS nan, NULL AS z`);
  assert.deepEqual(values.rows, [["170141183460469231731687303715884105727", "18446744073709551615", "2024-02-29 23:59:59.000001", "2024-02-29", "\\x00\\xFF", ["1", "2"], { n: "9007199254740993", d: "1.50" }, "NaN", null]]);
  assert.deepEqual(JSON.parse(JSON.stringify(values.rows)), values.rows, "rows survive JSON");
});

test("an abort signal stops a running query", async () => {
  const controller = new AbortController();
  const started = performance.now();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(
    warehouse.query("SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3", { signal: controller.signal }),
    (error: unknown) => error instanceof QueryFailedError && /cancelled/.test(error.message),
  );
  assert.ok(performance.now() - started < 5_000, "stopped promptly");
});

test("listTables: user tables only, exact row counts, columns; dropTable removes one", async () => {
  const tables = await warehouse.listTables();
  assert.deepEqual(tables.map((t) => `${t.schema}.${t.table}:${t.rowCount}`), ["ods.kv:3", "ods.log:2", "ods.pair:3", "ods.types:3"]);
  assert.deepEqual(tables[0]!.columns, [{ name: "k", type: "BIGINT" }, { name: "v", type: "VARCHAR" }]);
  await warehouse.dropTable("ods", "log");
  await warehouse.dropTable("ods", "log");
  assert.deepEqual((await warehouse.listTables()).map((t) => t.table), ["kv", "pair", "types"]);
});

test("bulk append and keyed batches on a 1M-row table (timings printed, not asserted)", async () => {
  const wide: SinkTableSpec = {
    schema: "perf", table: "wide", model: "unique", keyColumns: ["id"],
    columns: [["id", "bigint(20)"], ["n", "int(11)"], ["price", "decimal(12,2)"], ["name", "varchar(64)"], ["at", "datetime"], ["d", "date"], ["ratio", "double"], ["note", "text"]]
      .map(([name, mysqlType]) => ({ name: name!, mysqlType: mysqlType!, nullable: true })),
  };
  await warehouse.ensureTable(wide);
  const row = (i: number, tag: string): Row => ({
    id: String(i), n: i % 1000, price: `${i % 100000}.25`, name: `name ${i}`, at: "2024-05-06 07:08:09", d: "2024-05-06", ratio: i / 7, note: tag,
  });
  const TOTAL = 1_000_000;
  const BATCH = 20_000;
  let t = performance.now();
  for (let start = 0; start < TOTAL; start += BATCH) {
    await warehouse.appendRows({ jobId: "perf", target: wide, rows: Array.from({ length: BATCH }, (_, i) => row(start + i, "snapshot")) });
  }
  const appendMs = performance.now() - t;

  t = performance.now();
  for (let batch = 0; batch < 20; batch++) {
    const changes = Array.from({ length: 5_000 }, (_, i) => {
      const id = (batch * 7919 + i * 197) % TOTAL;
      if (i % 10 === 0) return { op: "delete", before: row(id, "") } as const;
      if (i % 10 === 1) return { op: "insert", after: row(TOTAL + batch * 5_000 + i, "new") } as const;
      return { op: "update", before: row(id, ""), after: row(id, `u${batch}`) } as const;
    });
    await warehouse.applyChanges({ jobId: "perf", offset: { batch }, tables: [{ target: wide, changes }] });
  }
  const applyMs = (performance.now() - t) / 20;
  console.log(`appended 1M 8-column rows in 20k-row batches: ${appendMs.toFixed(0)} ms (${Math.round(TOTAL / (appendMs / 1000)).toLocaleString("en")} rows/s); ` +
    `20 batches of 5k changes: ${applyMs.toFixed(0)} ms each`);
  assert.deepEqual(await warehouse.readOffset("perf"), { batch: 19 });
  const [count] = (await warehouse.query("SELECT count(*), count(DISTINCT id) FROM perf.wide")).rows;
  assert.equal(count![0], count![1], "one row per key");
});
