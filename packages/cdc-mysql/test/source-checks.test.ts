// "Test connection" against real servers set up wrong in each way CDC cares
// about: each failure is reported by its own check, with its own message.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { LocalMariadb } from "@tide/local-mariadb";
import { checkSource, connectionProblem, discoverTables } from "../src";

const DATA = resolve(import.meta.dirname, "../../../.test-data");
let good: LocalMariadb;
let noBinlog: LocalMariadb;

const users = (rights: string, name: string) =>
  ["'%'", "'localhost'"].map((h) => `CREATE USER '${name}'@${h} IDENTIFIED BY 'pw-${name}'; GRANT ${rights} ON *.* TO '${name}'@${h};`).join("");

before(async () => {
  [good, noBinlog] = await Promise.all([
    LocalMariadb.start({ dataDir: `${DATA}/cdc-checks`, fresh: true }),
    LocalMariadb.start({ dataDir: `${DATA}/cdc-checks-nobinlog`, fresh: true, binlog: false }),
  ]);
  const setup =
    "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2)); CREATE TABLE shop.log (msg TEXT);" +
    users("REPLICATION SLAVE, REPLICATION CLIENT, SELECT", "cdc") +
    users("REPLICATION CLIENT, SELECT", "noslave") +
    users("REPLICATION SLAVE, SELECT", "noclient");
  await Promise.all([good.sql(setup), noBinlog.sql(setup)]);
});

after(async () => {
  await Promise.all([good?.stop(), noBinlog?.stop()]);
});

const config = (db: LocalMariadb, user = "cdc", password = `pw-${user}`) => ({ host: "127.0.0.1", port: db.port, user, password });

function failing(report: Awaited<ReturnType<typeof checkSource>>) {
  return report.checks.filter((c) => !c.ok).map((c) => c.id);
}

test("a correctly configured source passes every check", async () => {
  const report = await checkSource(config(good));
  assert.deepEqual(failing(report), []);
  assert.equal(report.ok, true);
  assert.match(report.serverVersion ?? "", /MariaDB/);
});

test("binlog off, STATEMENT format, MINIMAL row image and NO_LOG metadata each fail their own check", async () => {
  const off = await checkSource(config(noBinlog));
  assert.ok(failing(off).includes("log_bin"));
  assert.match(off.checks.find((c) => c.id === "log_bin")!.fix ?? "", /log-bin/);

  for (const [setting, value, check, words] of [
    ["binlog_format", "STATEMENT", "binlog_format", /binlog_format is STATEMENT/],
    ["binlog_row_image", "MINIMAL", "binlog_row_image", /MINIMAL/],
    ["binlog_row_metadata", "NO_LOG", "binlog_row_metadata", /ALTER TABLE/],
  ] as const) {
    await good.sql(`SET GLOBAL ${setting} = '${value}'`);
    try {
      const report = await checkSource(config(good));
      assert.deepEqual(failing(report), [check], `${setting}=${value}`);
      assert.match(report.checks.find((c) => c.id === check)!.detail, words);
    } finally {
      await good.sql(`SET GLOBAL ${setting} = DEFAULT`);
      await good.sql(`SET GLOBAL ${setting} = '${setting === "binlog_format" ? "ROW" : "FULL"}'`);
    }
  }
});

test("missing REPLICATION SLAVE and missing REPLICATION CLIENT are told apart", async () => {
  const noSlave = await checkSource(config(good, "noslave"));
  assert.deepEqual(failing(noSlave), ["replication_slave"]);
  assert.match(noSlave.checks.find((c) => c.id === "replication_slave")!.fix ?? "", /GRANT REPLICATION SLAVE/);
  const noClient = await checkSource(config(good, "noclient"));
  assert.deepEqual(failing(noClient), ["replication_client"]);
  assert.match(noClient.checks.find((c) => c.id === "replication_client")!.fix ?? "", /GRANT REPLICATION CLIENT/);
});

test("unknown host, closed port and wrong password become field-level problems", async () => {
  const unknownHost = await checkSource({ host: "no-such-host.invalid", port: 3306, user: "cdc", password: "x" });
  assert.match(connectionProblem(unknownHost)?.["source.hostname"] ?? "", /Cannot resolve the host "no-such-host.invalid"/);
  const closed = await checkSource({ host: "127.0.0.1", port: 1, user: "cdc", password: "x" });
  assert.match(connectionProblem(closed)?.["source.port"] ?? "", /Nothing is listening/);
  const wrong = await checkSource(config(good, "cdc", "wrong"));
  assert.match(connectionProblem(wrong)?.["source.password"] ?? "", /refused user "cdc"/);
  assert.equal(connectionProblem(await checkSource(config(good))), undefined);
});

test("discovery lists tables with their keys and columns", async () => {
  const tables = await discoverTables(config(good));
  const orders = tables.find((t) => t.table === "orders")!;
  assert.deepEqual(orders.primaryKey, ["id"]);
  assert.deepEqual(orders.columns.map((c) => c.mysqlType), ["int(11)", "decimal(10,2)"]);
  assert.deepEqual(tables.find((t) => t.table === "log")!.primaryKey, []);
  assert.ok(!tables.some((t) => t.database === "mysql"));
});
