// Type changes of a source column in the warehouse: told apart as widening,
// narrowing or incompatible; applied where DuckDB can convert the stored
// values; and, where it cannot and the job is lenient, the stored values kept
// in a renamed column beside a new column of the new type.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { SinkTableSpec } from "@tide/contracts";
import { classifyTypeChange, Warehouse } from "../src";

const DIR = resolve(import.meta.dirname, "../../../.test-data/warehouse-schema-change");
let warehouse: Warehouse;

const events: SinkTableSpec = {
  schema: "ods", table: "events", model: "unique", keyColumns: ["id"],
  columns: [
    { name: "id", mysqlType: "int(11)", nullable: false },
    { name: "qty", mysqlType: "smallint(6)", nullable: true },
    { name: "day", mysqlType: "int(11)", nullable: true },
    { name: "code", mysqlType: "varchar(20)", nullable: true },
  ],
};

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  warehouse = await Warehouse.open(resolve(DIR, "w.duckdb"));
  await warehouse.ensureTable(events);
  await warehouse.appendRows({ jobId: "t", target: events, rows: [{ id: 1, qty: 7, day: 20240105, code: "A-1" }, { id: 2, qty: -3, day: 20240229, code: "B-22" }] });
});

after(() => warehouse?.close());

test("type changes are classified as the source would see them", () => {
  const cases: [string, string, string][] = [
    ["int(11)", "int(11)", "same"],
    ["int(11)", "bigint(20)", "widening"],
    ["bigint(20)", "int(11)", "narrowing"],
    ["int(10) unsigned", "int(11)", "narrowing"],
    ["int(10) unsigned", "bigint(20)", "widening"],
    ["smallint(6)", "int(10) unsigned", "narrowing"],
    ["decimal(10,2)", "decimal(12,2)", "widening"],
    ["decimal(10,2)", "decimal(10,4)", "narrowing"],
    ["decimal(10,2)", "decimal(14,4)", "widening"],
    ["int(11)", "decimal(12,2)", "widening"],
    ["int(11)", "decimal(8,0)", "narrowing"],
    ["float", "double", "widening"],
    ["double", "float", "narrowing"],
    ["varchar(20)", "varchar(50)", "widening"],
    ["varchar(50)", "varchar(20)", "narrowing"],
    ["varchar(200)", "text", "widening"],
    ["text", "varchar(100)", "narrowing"],
    ["varbinary(16)", "blob", "widening"],
    ["int(11)", "varchar(20)", "widening"],
    ["bigint(20)", "varchar(10)", "narrowing"],
    ["datetime", "datetime(6)", "widening"],
    ["datetime(6)", "datetime", "narrowing"],
    ["date", "datetime", "widening"],
    ["int(11)", "date", "incompatible"],
    ["varchar(20)", "int(11)", "incompatible"],
  ];
  for (const [from, to, expected] of cases) assert.equal(classifyTypeChange(from, to), expected, `${from} → ${to}`);
});

test("a widening applies in place and says so", async () => {
  const result = await warehouse.alterTable("ods", "events", { kind: "modify_column", column: "qty", definition: { name: "qty", mysqlType: "int(11)", nullable: true } });
  assert.match(result.detail, /^widening: qty smallint\(6\) → int\(11\)/);
  const { rows } = await warehouse.query("SELECT qty FROM ods.events ORDER BY id");
  assert.deepEqual(rows, [[7], [-3]]);
});

test("a narrowing DuckDB can apply to the stored values is applied", async () => {
  const result = await warehouse.alterTable("ods", "events", { kind: "modify_column", column: "qty", definition: { name: "qty", mysqlType: "smallint(6)", nullable: true }, onFailure: "new_column" });
  assert.match(result.detail, /^narrowing/);
  assert.equal(result.columnsAfter.find((c) => c.name === "qty")?.mysqlType, "smallint(6)");
});

test("an incompatible change fails without the lenient fallback, and keeps the table as it was", async () => {
  await assert.rejects(warehouse.alterTable("ods", "events", { kind: "modify_column", column: "day", definition: { name: "day", mysqlType: "date", nullable: true } }));
  const { rows } = await warehouse.query("SELECT day FROM ods.events ORDER BY id");
  assert.deepEqual(rows, [[20240105], [20240229]]);
});

test("lenient: a type the stored values cannot take becomes a new column, the old values kept beside it", async () => {
  const result = await warehouse.alterTable("ods", "events", { kind: "modify_column", column: "day", definition: { name: "day", mysqlType: "date", nullable: true }, onFailure: "new_column" });
  assert.ok(result.applied);
  assert.match(result.detail, /^incompatible: day int\(11\) → date; .* stay in day__integer and day is a new DATE column/);
  assert.deepEqual(result.columnsAfter.map((c) => `${c.name} ${c.mysqlType}`), ["id int(11)", "qty smallint(6)", "day__integer int(11)", "code varchar(20)", "day date"]);
  // Rows written from now on carry the new type; the old ones keep their values in day__integer.
  await warehouse.appendRows({ jobId: "t", target: result.spec, rows: [{ id: 3, qty: 1, day: "2024-03-01", code: "C" }] });
  const { rows } = await warehouse.query("SELECT id, day__integer, CAST(day AS VARCHAR) FROM ods.events ORDER BY id");
  assert.deepEqual(rows, [[1, 20240105, null], [2, 20240229, null], [3, null, "2024-03-01"]]);
  // A replay of the same change (after a crash) finds it done.
  const again = await warehouse.alterTable("ods", "events", { kind: "modify_column", column: "day", definition: { name: "day", mysqlType: "date", nullable: true }, onFailure: "new_column" });
  assert.match(again.detail, /same/);
});
