// The binlog reader in its own thread against a real private mariadbd: it hands
// out exactly what the reader gives in the applying thread (every type, bytes
// as Buffers), fails the same way on a purged position, keeps heartbeats and XA
// spans, and stays within its bound of rows held for a slow consumer.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { LocalMariadb } from "@tide/local-mariadb";
import type { BinlogPosition, SourceTransaction } from "@tide/contracts";
import { BinlogReader, SourceError, type SourceConnectionConfig } from "../src";
import { ThreadedBinlogReader } from "../src/threaded-binlog-reader";
import { decodeTransaction, encodeTransaction } from "../src/change-encoding";

let db: LocalMariadb;
let source: SourceConnectionConfig;

before(async () => {
  db = await LocalMariadb.start({ dataDir: resolve(import.meta.dirname, "../../../.test-data/cdc-threaded"), fresh: true });
  source = { host: "127.0.0.1", port: db.port, user: "root", password: "" };
  await db.sql(`CREATE DATABASE src; CREATE TABLE src.types (
    id INT PRIMARY KEY, i_big_u BIGINT UNSIGNED, d_wide DECIMAL(65,30), f FLOAT, dtm DATETIME(6), tm TIME,
    s VARCHAR(50) CHARACTER SET utf8mb4, b BLOB, vb VARBINARY(8), j JSON, st SET('x','y'), bt BIT(8))`);
});

after(async () => {
  await db?.stop();
});

async function masterPosition(): Promise<BinlogPosition> {
  const [s] = (await db.sql("SHOW MASTER STATUS")) as { File: string; Position: number | string }[];
  return { file: s!.File, pos: Number(s!.Position) };
}

interface Reader {
  poll(maxRows: number, waitMs: number): Promise<SourceTransaction[]>;
}

async function readChanges(reader: Reader, count: number): Promise<SourceTransaction[]> {
  const txs: SourceTransaction[] = [];
  const deadline = Date.now() + 20_000;
  const changes = () => txs.reduce((n, t) => n + t.tables.reduce((m, x) => m + x.changes.length, 0), 0);
  while (changes() < count) {
    if (Date.now() > deadline) assert.fail(`timed out after ${changes()} of ${count} changes`);
    txs.push(...(await reader.poll(10_000, 200)));
  }
  return txs;
}

test("the compact form between threads gives back the same transaction, bytes as Buffers", () => {
  const tx: SourceTransaction = {
    position: { file: "mysql-bin.000001", pos: 400 },
    commitTimeMs: 1_700_000_000_000,
    tables: [
      {
        database: "d",
        table: "t",
        changes: [
          { op: "insert", after: { id: 1, b: Buffer.from([0, 255]), s: "a😀" } },
          { op: "update", before: { id: 1, b: Buffer.from([0, 255]), s: "a😀" }, after: { id: 1, b: null, s: null } },
          { op: "delete", before: { id: 1, b: null, s: null } },
        ],
      },
    ],
  };
  const cloned = structuredClone(encodeTransaction(tx));
  const decoded = decodeTransaction(cloned);
  assert.deepEqual(decoded, tx);
  const insert = decoded.tables[0]!.changes[0]!;
  assert.ok(insert.op === "insert" && Buffer.isBuffer(insert.after.b));
});

test("the threaded reader hands out what the in-thread reader does, value for value", async () => {
  const start = await masterPosition();
  await db.sql(`INSERT INTO src.types VALUES
    (1, 18446744073709551615, '12345678901234567890123456789012345.123456789012345678901234567890', 1.1, '2024-02-29 23:59:59.123456',
     '-12:00:00', 'héllo 😀', X'00FF10', X'0102', '{"big": 12345678901234567890}', 'x,y', b'10100101'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  await db.sql("UPDATE src.types SET s = 'changed', b = X'AA' WHERE id = 1; DELETE FROM src.types WHERE id = 2;");
  const plain = new BinlogReader({ source, serverId: 9101, startAt: start, includeTable: (d, t) => d === "src" && t === "types" });
  await plain.start();
  const expected = await readChanges(plain, 4);
  await plain.stop();
  const threaded = new ThreadedBinlogReader({ source, serverId: 9102, startAt: start, tables: ["src.types"] });
  await threaded.start();
  const got = await readChanges(threaded, 4);
  await threaded.stop();
  assert.deepEqual(got, expected);
  const update = got.flatMap((t) => t.tables.flatMap((x) => x.changes)).find((c) => c.op === "update")!;
  assert.ok(update.op === "update" && Buffer.isBuffer(update.after.b) && update.after.b.equals(Buffer.from([0xaa])));
  assert.ok(threaded.bytesReceived > 0);
});

test("a position the source no longer has fails the threaded reader's start with the same SourceError", async () => {
  const reader = new ThreadedBinlogReader({ source, serverId: 9103, startAt: { file: "mysql-bin.999999", pos: 4 } });
  await assert.rejects(reader.start(), (error: unknown) => {
    assert.ok(error instanceof SourceError);
    assert.equal(error.kind, "fatal");
    assert.equal(error.reason, "binlog_purged");
    assert.match(error.message, /mysql-bin\.999999/);
    return true;
  });
  await reader.stop();
});

test("heartbeats reach the applying thread, and an XA transaction prepared before a position is replayed from its rows", async () => {
  await db.sql("CREATE TABLE src.xa (id INT PRIMARY KEY)");
  const start = await masterPosition();
  await db.sql("XA START 'held'; INSERT INTO src.xa VALUES (1); XA END 'held'; XA PREPARE 'held';");
  const afterPrepare = await masterPosition();
  const reader = new ThreadedBinlogReader({ source, serverId: 9104, startAt: start, tables: ["src.xa"] });
  await reader.start();
  const first = reader.lastContactMs;
  await new Promise((r) => setTimeout(r, 2_600));
  await reader.poll(100, 0);
  assert.ok(reader.lastContactMs > first + 1_500, `last contact ${reader.lastContactMs - first} ms after start`);
  // Resuming after the prepare would miss the rows of its XA COMMIT: the reader names where they start.
  const replay = reader.xaReplayFrom(afterPrepare);
  assert.ok(replay && replay.file === start.file && replay.pos >= start.pos && replay.pos < afterPrepare.pos, JSON.stringify(replay));
  await db.sql("XA COMMIT 'held'");
  const txs = await readChanges(reader, 1);
  assert.deepEqual(txs.flatMap((t) => t.tables.flatMap((x) => x.changes)), [{ op: "insert", after: { id: 1 } }]);
  await reader.stop();
});

test("a consumer that does not poll holds the thread at its bound, and nothing is lost once it does", async () => {
  await db.sql("CREATE TABLE src.many (id INT PRIMARY KEY, pad VARCHAR(20))");
  const start = await masterPosition();
  await db.sql("INSERT INTO src.many SELECT seq, 'padding-padding' FROM src.seq_1_to_200000");
  const reader = new ThreadedBinlogReader({ source, serverId: 9105, startAt: start, tables: ["src.many"] });
  await reader.start();
  await new Promise((r) => setTimeout(r, 3_000));
  const held = (reader as unknown as { queue: { rows: number }[] }).queue.reduce((n, t) => n + t.rows, 0);
  assert.ok(held > 0 && held <= 60_000, `${held} rows held for a consumer that has not polled`);
  const txs = await readChanges(reader, 200_000);
  await reader.stop();
  const ids = txs.flatMap((t) => t.tables.flatMap((x) => x.changes.map((c) => (c.op === "insert" ? Number(c.after.id) : -1))));
  assert.equal(ids.length, 200_000);
  assert.equal(new Set(ids).size, 200_000);
});

test("a transaction of wide rows is handed out in pieces by its size, not only by its row count", async () => {
  await db.sql("CREATE TABLE src.wide (id INT PRIMARY KEY, body MEDIUMTEXT)");
  const start = await masterPosition();
  // 1,000 rows of 20 KB: 20 MB in one transaction, far below the 20k-row piece size.
  await db.sql("INSERT INTO src.wide SELECT seq, REPEAT('w', 20000) FROM src.seq_1_to_1000");
  const reader = new ThreadedBinlogReader({ source, serverId: 9106, startAt: start, tables: ["src.wide"] });
  await reader.start();
  const txs = await readChanges(reader, 1_000);
  await reader.stop();
  const pieces = txs.filter((t) => t.partial);
  assert.ok(pieces.length >= 2, `${pieces.length} pieces`);
  assert.equal(txs[txs.length - 1]!.partial, undefined, "the last piece carries the commit");
  assert.ok(pieces.every((p) => p.position.pos === start.pos), "pieces keep the position before the transaction");
});
