// The source side against a real private mariadbd: snapshot and binlog rows
// agree value for value, the snapshot position has no gap and no overlap with
// the stream, and a purged position fails loudly.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { LocalMariadb } from "@tide/local-mariadb";
import type { Row, SourceTransaction } from "@tide/contracts";
import { BinlogReader, ConsistentSnapshot, readTableSchema, SourceError, type SourceConnectionConfig } from "../src";

let db: LocalMariadb;
let source: SourceConnectionConfig;

before(async () => {
  db = await LocalMariadb.start({ dataDir: resolve(import.meta.dirname, "../../../.test-data/cdc-stream"), fresh: true });
  source = { host: "127.0.0.1", port: db.port, user: "root", password: "" };
  await db.sql(`CREATE DATABASE src; CREATE TABLE src.types (
    id INT PRIMARY KEY,
    i_tiny TINYINT, i_big_u BIGINT UNSIGNED, i_big BIGINT,
    d_wide DECIMAL(65,30), d_money DECIMAL(12,2),
    f FLOAT, dbl DOUBLE,
    dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME, yr YEAR,
    s VARCHAR(50) CHARACTER SET utf8mb4, txt TEXT, b BLOB, vb VARBINARY(8),
    j JSON, e ENUM('a','b','c'), st SET('x','y'), bt BIT(8)
  )`);
});

after(async () => {
  await db?.stop();
});

const VALUES = `
  (1, -5, 18446744073709551615, -9223372036854775808, '12345678901234567890123456789012345.123456789012345678901234567890', 12.50,
   1.1, 3.141592653589793, '2024-02-29', '2024-02-29 23:59:59.123456', '2024-03-01 01:02:03.654321', '-12:00:00', 2024,
   'héllo 😀', 'long text', X'00FF10', X'0102', '{"big": 12345678901234567890, "a": [1, 2]}', 'b', 'x,y', b'10100101'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

async function masterPosition() {
  const [s] = (await db.sql("SHOW MASTER STATUS")) as { File: string; Position: number | string }[];
  return { file: s!.File, pos: Number(s!.Position) };
}

async function readAll(reader: BinlogReader, until: (txs: SourceTransaction[]) => boolean): Promise<SourceTransaction[]> {
  const txs: SourceTransaction[] = [];
  const deadline = Date.now() + 15_000;
  while (!until(txs)) {
    if (Date.now() > deadline) assert.fail(`timed out; got ${JSON.stringify(txs).slice(0, 500)}`);
    txs.push(...(await reader.poll(10_000, 200)));
  }
  return txs;
}

const changesOf = (txs: SourceTransaction[]) => txs.flatMap((t) => t.tables.flatMap((x) => x.changes));

test("snapshot rows and binlog rows of every type are identical", async () => {
  const start = await masterPosition();
  await db.sql(`INSERT INTO src.types VALUES ${VALUES}`);
  const schema = await readTableSchema(source, "src", "types");
  const snapshot = await ConsistentSnapshot.open(source);
  const snapshotRows: Row[] = [];
  await snapshot.readTable(schema, 100, async (rows) => void snapshotRows.push(...rows));
  await snapshot.close();

  const reader = new BinlogReader({ source, serverId: 9001, startAt: start, includeTable: (d, t) => d === "src" && t === "types" });
  await reader.start();
  const txs = await readAll(reader, (t) => changesOf(t).length >= 2);
  await reader.stop();
  const binlogRows = changesOf(txs).map((c) => (c.op === "insert" ? c.after : undefined));
  assert.equal(snapshotRows.length, 2);
  const row = snapshotRows.find((r) => r.id === 1)!;
  assert.equal(row.i_big_u, "18446744073709551615");
  assert.equal(row.d_money, "12.50");
  assert.equal(row.dtm, "2024-02-29 23:59:59.123456");
  assert.equal(row.s, "héllo 😀");
  assert.match(String(row.j), /12345678901234567890/);
  assert.deepEqual(binlogRows, snapshotRows.sort((a, b) => Number(a.id) - Number(b.id)));
});

test("the snapshot position joins the stream with no gap and no duplicate; rollbacks never appear", async () => {
  await db.sql("CREATE TABLE src.seq (id INT PRIMARY KEY, v VARCHAR(10))");
  await db.sql("INSERT INTO src.seq VALUES (1,'a'),(2,'b')");
  const snapshot = await ConsistentSnapshot.open(source);
  await db.sql("INSERT INTO src.seq VALUES (3,'c'); UPDATE src.seq SET v='bb' WHERE id=2; DELETE FROM src.seq WHERE id=1;");
  await db.sql("START TRANSACTION; INSERT INTO src.seq VALUES (99,'zz'); ROLLBACK;");
  const seen: Row[] = [];
  await snapshot.readTable(await readTableSchema(source, "src", "seq"), 10, async (rows) => void seen.push(...rows));
  const position = snapshot.position;
  await snapshot.close();
  assert.deepEqual(seen.map((r) => r.id).sort(), [1, 2]);

  const reader = new BinlogReader({ source, serverId: 9002, startAt: position, includeTable: (d, t) => d === "src" && t === "seq" });
  await reader.start();
  const txs = await readAll(reader, (t) => changesOf(t).length >= 3);
  await new Promise((r) => setTimeout(r, 300));
  txs.push(...(await reader.poll(1000, 0)));
  await reader.stop();
  assert.deepEqual(changesOf(txs), [
    { op: "insert", after: { id: 3, v: "c" } },
    { op: "update", before: { id: 2, v: "b" }, after: { id: 2, v: "bb" } },
    { op: "delete", before: { id: 1, v: "a" } },
  ]);
});

test("a position the source no longer has fails with the missing file named and the re-snapshot remedy", async () => {
  const reader = new BinlogReader({ source, serverId: 9003, startAt: { file: "mysql-bin.999999", pos: 4 }, includeTable: () => true });
  await assert.rejects(reader.start(), (error: unknown) => {
    assert.ok(error instanceof SourceError);
    assert.equal(error.kind, "fatal");
    assert.match(error.message, /mysql-bin\.999999/);
    assert.match(error.message, /re-snapshot/);
    return true;
  });
  await reader.stop();
});

test("an idle source keeps sending heartbeats, so a live connection is told from a dead one", async () => {
  const reader = new BinlogReader({ source, serverId: 9004, startAt: await masterPosition(), includeTable: () => true });
  await reader.start();
  const first = reader.lastContactMs;
  await new Promise((r) => setTimeout(r, 2_600));
  await reader.poll(10, 0);
  await reader.stop();
  assert.ok(reader.lastContactMs > first + 1_500, `last contact ${reader.lastContactMs - first} ms after start`);
});

test("XA transactions count at XA COMMIT, rolled-back ones never; Aria (non-transactional) tables stream too", async () => {
  await db.sql("CREATE TABLE src.xa (id INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE src.aria (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=Aria;");
  const start = await masterPosition();
  await db.sql("XA START 'tx-1'; INSERT INTO src.xa VALUES (1, 'kept'); XA END 'tx-1'; XA PREPARE 'tx-1';");
  await db.sql("XA START 'tx-2'; INSERT INTO src.xa VALUES (2, 'dropped'); XA END 'tx-2'; XA PREPARE 'tx-2';");
  await db.sql("INSERT INTO src.aria VALUES (7, 'aria')");
  await db.sql("XA COMMIT 'tx-1'; XA ROLLBACK 'tx-2';");
  const reader = new BinlogReader({ source, serverId: 9005, startAt: start, includeTable: (d, t) => d === "src" && (t === "xa" || t === "aria") });
  await reader.start();
  const txs = await readAll(reader, (t) => changesOf(t).length >= 2);
  await new Promise((r) => setTimeout(r, 300));
  txs.push(...(await reader.poll(100, 0)));
  await reader.stop();
  assert.deepEqual(changesOf(txs), [
    { op: "insert", after: { id: 7, v: "aria" } },
    { op: "insert", after: { id: 1, v: "kept" } },
  ]);
});
