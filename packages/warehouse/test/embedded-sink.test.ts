// The embedded two-phase sink on a real DuckDB file: precommitted loads are
// durable and invisible, commit is atomic and idempotent, abort discards, and
// a reopened warehouse still knows every label's state.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { SinkTableSpec } from "@tide/contracts";
import { Warehouse } from "../src";

const DIR = resolve(import.meta.dirname, "../../../.test-data/warehouse-2pc");
const PATH = resolve(DIR, "w.duckdb");

const orders: SinkTableSpec = {
  schema: "ods", table: "orders", model: "unique", keyColumns: ["id"],
  columns: [{ name: "id", mysqlType: "int(11)", nullable: false }, { name: "status", mysqlType: "varchar(10)", nullable: true }],
};

const count = async (w: Warehouse) => Number((await w.query("SELECT count(*) FROM ods.orders")).rows[0]![0]);

before(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
});

test("write and precommit stay invisible; commit shows the folded result once", async () => {
  const w = await Warehouse.open(PATH);
  await w.ensureTable(orders);
  await w.appendRows({ jobId: "x", target: orders, rows: [{ id: 1, status: "new" }, { id: 2, status: "new" }] });
  const sink = w.twoPhaseSink();
  const load = await sink.begin("job-1-cp-1-a-ods.orders", orders);
  await load.write([
    { op: "update", before: { id: 1, status: "new" }, after: { id: 1, status: "paid" } },
    { op: "insert", after: { id: 3, status: "new" } },
  ]);
  await load.write([
    { op: "update", before: { id: 2, status: "new" }, after: { id: 20, status: "new" } },
    { op: "delete", before: { id: 3, status: "new" } },
    { op: "update", before: { id: 1, status: "paid" }, after: { id: 1, status: "shipped" } },
  ]);
  await load.precommit();
  assert.equal(await count(w), 2);
  assert.deepEqual(await sink.recover("job-1-"), ["job-1-cp-1-a-ods.orders"]);
  await assert.rejects(load.write([{ op: "insert", after: { id: 9, status: "late" } }]), /cannot be written to: it is precommitted/);

  await sink.commit("job-1-cp-1-a-ods.orders");
  await sink.commit("job-1-cp-1-a-ods.orders");
  const rows = (await w.query("SELECT id, status FROM ods.orders ORDER BY id")).rows;
  assert.deepEqual(rows, [[1, "shipped"], [20, "new"]]);
  assert.deepEqual([...(await sink.appliedTimes("job-1-")).values()], [1]);
  assert.deepEqual(await sink.recover("job-1-"), []);
  await assert.rejects(sink.abort("job-1-cp-1-a-ods.orders"), /cannot be aborted: it is committed/);
  await w.close();
});

test("a precommitted load survives a reopen and can be committed or aborted; a begun label cannot be reused", async () => {
  let w = await Warehouse.open(PATH);
  let sink = w.twoPhaseSink();
  const keep = await sink.begin("job-1-cp-2-a-ods.orders", orders);
  await keep.write([{ op: "insert", after: { id: 5, status: "kept" } }]);
  await keep.precommit();
  const drop = await sink.begin("job-1-cp-3-a-ods.orders", orders);
  await drop.write([{ op: "insert", after: { id: 6, status: "dropped" } }]);
  await w.close();

  w = await Warehouse.open(PATH);
  sink = w.twoPhaseSink();
  assert.deepEqual(await sink.recover("job-1-"), ["job-1-cp-2-a-ods.orders", "job-1-cp-3-a-ods.orders"]);
  await assert.rejects(sink.commit("job-1-cp-3-a-ods.orders"), /cannot be committed: it is open/);
  await sink.commit("job-1-cp-2-a-ods.orders");
  await sink.abort("job-1-cp-3-a-ods.orders");
  await sink.abort("job-1-cp-3-a-ods.orders");
  await assert.rejects(sink.commit("job-1-cp-3-a-ods.orders"), /it is aborted/);
  await assert.rejects(sink.begin("job-1-cp-3-a-ods.orders", orders), /begun again/);
  assert.deepEqual((await w.query("SELECT id FROM ods.orders ORDER BY id")).rows, [[1], [5], [20]]);
  assert.equal((await w.query("SELECT count(*) FROM _tide_stage.\"ods.orders\"")).rows[0]![0], "0");
  await w.close();
});
