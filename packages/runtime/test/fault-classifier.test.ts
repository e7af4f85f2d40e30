// Fault classification on real errors: those mysql2 produces against a private
// mariadbd (refused, killed and shut-down connections, lock waits, missing
// tables and privileges), and those DuckDB produces on a full disk (a small
// tmpfs; root only). Known passing faults retry indefinitely, others a bounded
// number of times, a full warehouse disk not at all.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConsistentSnapshot, currentPosition, readTableSchema, SourceError, tableStats, toSourceError, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { freePort, LocalMariadb } from "@tide/local-mariadb";
import { Warehouse } from "@tide/warehouse";
import { classifyFault, RetryBudget, UNKNOWN_FAULT_ATTEMPTS } from "../src/fault-classifier";

const DATA = resolve(import.meta.dirname, "../../../.test-data/runtime-faults");
let db: LocalMariadb;

before(async () => {
  db = await LocalMariadb.start({ dataDir: join(DATA, "mariadb"), fresh: true });
  await db.sql(`CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; INSERT INTO s.t VALUES (1, 1), (2, 2);
    CREATE DATABASE other; CREATE TABLE other.secret (id INT PRIMARY KEY);
    CREATE USER 'narrow'@'127.0.0.1' IDENTIFIED BY 'narrow-pw'; CREATE USER 'narrow'@'localhost' IDENTIFIED BY 'narrow-pw';
    GRANT SELECT ON s.* TO 'narrow'@'127.0.0.1'; GRANT SELECT ON s.* TO 'narrow'@'localhost';`);
});

after(async () => {
  await db?.stop();
});

const root = () => db.connect();
const as = (user: string, password: string, port = db.port): SourceConnectionConfig => ({ host: "127.0.0.1", port, user, password });

/** The error a promise rejects with (it must reject). */
async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

/** The error as Tide's source code wraps it (the cdc-mysql functions throw it wrapped already), and its classification. */
function sourceFault(error: unknown) {
  const wrapped = toSourceError(error);
  assert.ok(wrapped instanceof SourceError);
  return { wrapped, fault: classifyFault(wrapped) };
}

test("a refused connection is a known transient fault, retried indefinitely", async () => {
  const error = await caught(async () => tableStats(as("root", "", await freePort()), "s", "t"));
  assert.equal(((error as SourceError).cause as { code?: string }).code, "ECONNREFUSED");
  const { fault } = sourceFault(error);
  assert.equal(fault.kind, "transient");
  const budget = new RetryBudget();
  for (let i = 0; i < 1_000; i++) assert.equal(budget.spend(fault).retry, true);
});

test("a killed connection and a server shutting down are known transient faults", async () => {
  const victim = await root();
  const killer = await root();
  const [[{ id }]] = (await victim.query("SELECT CONNECTION_ID() AS id")) as unknown as [[{ id: number }]];
  const sleeping = caught(() => victim.query("SELECT SLEEP(30)"));
  await new Promise((r) => setTimeout(r, 200));
  await killer.query(`KILL CONNECTION ${Number(id)}`);
  const killed = await sleeping;
  await killer.end();
  assert.equal(sourceFault(killed).fault.kind, "transient", String(killed));
  // And the next use of the dead connection.
  const closed = await caught(() => victim.query("SELECT 1"));
  assert.equal(sourceFault(closed).fault.kind, "transient", String(closed));
  victim.destroy();

  const during = await root();
  const query = caught(() => during.query("SELECT SLEEP(30)"));
  await new Promise((r) => setTimeout(r, 200));
  await db.stop();
  const shutdown = await query;
  during.destroy();
  const refused = await caught(() => ConsistentSnapshot.open(as("root", "")));
  await db.launch();
  for (const error of [shutdown, refused]) {
    const { wrapped, fault } = sourceFault(error);
    assert.equal(fault.kind, "transient", String(error));
    assert.equal(wrapped.reason, "connection");
    assert.match(fault.message, /^Lost the connection to the source/);
  }
});

test("a lock wait timeout is contention, retried like a lost connection", async () => {
  const holder = await root();
  const waiter = await root();
  try {
    await holder.beginTransaction();
    await holder.query("SELECT * FROM s.t WHERE id = 1 FOR UPDATE");
    await waiter.query("SET SESSION innodb_lock_wait_timeout = 1");
    const error = await caught(() => waiter.query("UPDATE s.t SET v = 3 WHERE id = 1"));
    assert.equal((error as { errno?: number }).errno, 1205);
    const { wrapped, fault } = sourceFault(error);
    assert.equal(wrapped.reason, "contention");
    assert.equal(fault.kind, "transient");
  } finally {
    await holder.rollback();
    await holder.end();
    await waiter.end();
  }
});

test("a missing privilege or a refused login fails at once", async () => {
  const denied = await caught(() => tableStats(as("narrow", "narrow-pw"), "other", "secret"));
  assert.equal(((denied as SourceError).cause as { errno?: number }).errno, 1142);
  const { wrapped, fault } = sourceFault(denied);
  assert.equal(wrapped.reason, "privilege");
  assert.equal(fault.kind, "fatal");
  assert.match(fault.message, /lacks a privilege.*Grant/);
  const noStatus = await caught(() => currentPosition(as("narrow", "narrow-pw")));
  assert.equal(sourceFault(noStatus).fault.kind, "fatal", String(noStatus));
  const login = await caught(() => tableStats(as("narrow", "wrong"), "s", "t"));
  assert.equal(sourceFault(login).wrapped.reason, "access_denied");
  assert.equal(new RetryBudget().spend(sourceFault(login).fault).retry, false);
});

test("an error not known to pass is retried a bounded number of times, then fails with it in words", async () => {
  const conn = await root();
  let missing: unknown;
  let syntax: unknown;
  try {
    missing = await caught(() => conn.query("SELECT * FROM s.gone"));
    syntax = await caught(() => conn.query("SELEKT 1"));
  } finally {
    await conn.end();
  }
  assert.equal((missing as { errno?: number }).errno, 1146);
  const fault = sourceFault(missing).fault;
  assert.equal(fault.kind, "unknown");
  assert.match(fault.message, /ER_NO_SUCH_TABLE: Table 's\.gone' doesn't exist/);
  assert.equal(sourceFault(syntax).fault.kind, "unknown");

  const budget = new RetryBudget();
  const start = 1_000_000;
  for (let i = 1; i < UNKNOWN_FAULT_ATTEMPTS; i++) {
    const verdict = budget.spend(fault, start + i * 1_000);
    assert.deepEqual(verdict, { retry: true, attempt: i, limit: UNKNOWN_FAULT_ATTEMPTS });
  }
  // Known transient faults in between neither count nor reset the stretch.
  const refused = sourceFault(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })).fault;
  assert.equal(budget.spend(refused).retry, true);
  const verdict = budget.spend(fault, start + 60_000);
  assert.equal(verdict.retry, false);
  assert.ok(!verdict.retry && verdict.message.startsWith(`Gave up after ${UNKNOWN_FAULT_ATTEMPTS} attempts in 59 s: ER_NO_SUCH_TABLE: Table 's.gone' doesn't exist.`), JSON.stringify(verdict));
  // A job that got healthy again starts over.
  budget.reset();
  assert.equal(budget.spend(fault).retry, true);
});

test("a full warehouse disk fails the job with its path and the remedy; a checkpoint that could not be written also asks for a reopen", async (t) => {
  const mount = join(DATA, "disk");
  mkdirSync(mount, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", mount], { stdio: "pipe" });
  } catch (error) {
    return t.skip(`cannot mount a tmpfs (uid ${process.getuid?.()}): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
  }
  try {
    const path = join(mount, "warehouse.duckdb");
    const warehouse = await Warehouse.open(path);
    const spec = {
      schema: "ods",
      table: "t",
      columns: [
        { name: "id", mysqlType: "int", nullable: false },
        { name: "body", mysqlType: "mediumtext", nullable: false },
      ],
      model: "unique" as const,
      keyColumns: ["id"],
    };
    await warehouse.ensureTable(spec);
    const body = () => randomBytes(32 * 1024).toString("hex");
    const write = (ids: number[]) =>
      warehouse.applyChanges({ jobId: "1", offset: ids, tables: [{ target: spec, changes: ids.map((id) => ({ op: "insert" as const, after: { id, body: body() } })) }] });
    await write(Array.from({ length: 300 }, (_, i) => i));
    // That one big commit left the WAL past DuckDB's checkpoint threshold: the next commit checkpoints it away.
    await write([0]);
    // Ordinary commits: the WAL cannot grow.
    const free = () => statfsSync(mount).bavail * statfsSync(mount).bsize;
    writeFileSync(join(mount, "filler"), Buffer.alloc(Math.max(0, free() - 256 * 1024)));
    const walFull = await caught(() => write(Array.from({ length: 40 }, (_, i) => 1_000 + i)));
    let fault = classifyFault(walFull, { warehousePath: path });
    assert.equal(fault.kind, "fatal", String(walFull));
    assert.equal(fault.diskFull, true);
    assert.ok(!fault.warehouseLost, String(walFull));
    assert.ok(fault.message.startsWith(`The warehouse disk at ${mount} is full (`), fault.message);
    assert.match(fault.message, /No space left on device\)\. Free space on it, then Retry the job/);

    // The same error handed through a snapshot read's consumer stays the warehouse's, not a source error.
    const schema = await readTableSchema(as("root", ""), "s", "t");
    const snapshot = await ConsistentSnapshot.open(as("root", ""), { position: false });
    try {
      const passed = await caught(() => snapshot.readTable(schema, 1, async () => Promise.reject(walFull)));
      assert.equal(passed, walFull);
      assert.equal(classifyFault(passed, { warehousePath: path }).diskFull, true);
    } finally {
      await snapshot.close();
    }

    // A commit that takes the WAL past DuckDB's checkpoint threshold checkpoints into the file: with no
    // room for that, DuckDB gives a FATAL error and refuses the instance from then on.
    rmSync(join(mount, "filler"));
    let checkpointFailure: unknown;
    for (let round = 0; round < 40 && !checkpointFailure; round++) {
      if (round === 2) writeFileSync(join(mount, "filler"), Buffer.alloc(Math.max(0, free() - 18 * 1024 * 1024)));
      checkpointFailure = await write(Array.from({ length: 40 }, (_, i) => (round * 40 + i) % 300)).then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    assert.ok(checkpointFailure, "no write failed");
    fault = classifyFault(checkpointFailure, { warehousePath: path });
    assert.equal(fault.diskFull, true, String(checkpointFailure));
    assert.equal(fault.warehouseLost, true, String(checkpointFailure));
    assert.match(fault.message, /The worker restarts itself to reopen the warehouse/);
    const after = await caught(() => warehouse.countRows("ods", "t"));
    const lost = classifyFault(after, { warehousePath: path });
    assert.equal(lost.warehouseLost, true, String(after));
    assert.equal(lost.kind, "fatal");
    await warehouse.close().catch(() => undefined);
  } finally {
    execFileSync("umount", ["-l", mount]);
  }
});
