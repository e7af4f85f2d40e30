// The warehouse against a real DuckDB file: exact round trips of every mapped
// type, keyed change application, the offset committed with the data, and
// users' SQL kept read-only.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Row, SinkTableSpec } from "@tide/contracts";
import { Warehouse } from "../src";

const DIR = resolve(import.meta.dirname, "../../../.test-data/warehouse");
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

test("every mapped type round-trips exactly", async () => {
  await warehouse.ensureTable(typesSpec);
  await warehouse.appendRows({ jobId: "t", target: typesSpec, rows: [fullRow, nullRow] });
  const rows = (await warehouse.readAll("ods", "types")).sort((a, b) => Number(a.id) - Number(b.id));
  assert.deepEqual(rows, [fullRow, nullRow]);
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

test("users' SQL is read-only, one statement, JSON-safe and capped", async () => {
  for (const sql of ["DELETE FROM ods.kv", "CREATE TABLE x (a INT)", "DROP TABLE ods.kv", "ATTACH 'other.db'", "SELECT 1; SELECT 2", "COPY ods.kv TO 'x.csv'", "SET threads = 1"]) {
    await assert.rejects(warehouse.query(sql), /Only queries|one statement|permission|disabled|not allowed/i, sql);
  }
  await assert.rejects(warehouse.query("SELECT * FROM read_text('/etc/passwd')"), /disabled|permission|external/i);
  await assert.rejects(warehouse.query("SELECT * FROM nope"), /nope/);
  const result = await warehouse.query("SELECT k, v, 12.50::DECIMAL(12,2) AS d FROM ods.kv ORDER BY k", { maxRows: 2 });
  assert.deepEqual(result.columns.map((c) => c.name), ["k", "v", "d"]);
  assert.deepEqual(result.rows, [["1", "a2", "12.50"], ["3", "c again", "12.50"]]);
  assert.equal(result.rowCount, 3);
  assert.equal(result.truncated, true);
  const tables = await warehouse.listTables();
  assert.deepEqual(tables.map((t) => `${t.schema}.${t.table}:${t.rowCount}`), ["ods.kv:3", "ods.log:2", "ods.types:2"]);
});

test("keyed batches on a larger table (timing printed, not asserted)", async () => {
  const big: SinkTableSpec = { ...kv, table: "big" };
  await warehouse.ensureTable(big);
  const rows: Row[] = [];
  for (let i = 0; i < 300_000; i++) rows.push({ k: String(i), v: `v${i}` });
  let t = performance.now();
  await warehouse.appendRows({ jobId: "b", target: big, rows });
  const appendMs = performance.now() - t;
  t = performance.now();
  for (let batch = 0; batch < 10; batch++) {
    const changes = Array.from({ length: 5_000 }, (_, i) => {
      const k = String((batch * 7919 + i * 31) % 300_000);
      return i % 10 === 0 ? ({ op: "delete", before: { k, v: "" } } as const) : ({ op: "update", before: { k, v: "" }, after: { k, v: `u${batch}` } } as const);
    });
    await warehouse.applyChanges({ jobId: "b", offset: { batch }, tables: [{ target: big, changes }] });
  }
  const applyMs = (performance.now() - t) / 10;
  console.log(`appended 300k rows in ${appendMs.toFixed(0)} ms; 5k-change batches took ${applyMs.toFixed(0)} ms each`);
  assert.ok((await warehouse.query("SELECT count(*) FROM ods.big")).rows[0]![0] !== undefined);
});
