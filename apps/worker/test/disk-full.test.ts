// The warehouse's disk fills up while a job streams: the job stops in `failed`
// with the cause (the warehouse disk at <path> is full) and the remedy, and is
// not retried behind the user's back. When the disk fills during a DuckDB
// checkpoint, DuckDB invalidates the database: the worker exits to be restarted
// (here the test restarts it, as the supervisor does) and the job stays failed
// until retried. Once space is freed and the job retried, the warehouse equals
// the source, with no load applied twice. The warehouse lives on a small tmpfs
// mounted for the test (root only; skipped when mounting is not allowed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statfsSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Warehouse } from "@tide/warehouse";
import { RandomWorkload, seedItems } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, type Stack } from "./stack";

const MiB = 1024 * 1024;
/** DuckDB's default checkpoint_threshold: a commit that takes the WAL past it checkpoints into the file. */
const CHECKPOINT_THRESHOLD = 16 * MiB;

let stack: Stack | undefined;
let mountPoint: string | undefined;
let mounted = false;
let skipReason: string | undefined;

before(async () => {
  stack = await startStack("disk-full");
  mountPoint = join(stack.dataDir, "warehouse-disk");
  mkdirSync(mountPoint, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=128m", "tmpfs", mountPoint], { stdio: "pipe" });
    mounted = true;
  } catch (error) {
    const uid = process.getuid?.();
    skipReason = `cannot mount a tmpfs for the warehouse (uid ${uid}): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
});

after(async () => {
  try {
    await stack?.close();
  } finally {
    if (mounted && mountPoint) execFileSync("umount", ["-l", mountPoint]);
  }
});

/** Writes into `path` until the disk has only `leave` bytes left (or none); returns the bytes written. */
function fillDisk(path: string, leave = 0): number {
  const fs = statfsSync(mountPoint!);
  let remaining = leave > 0 ? Math.max(0, fs.bavail * fs.bsize - leave) : Infinity;
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(MiB, 0x5a);
  let written = 0;
  try {
    while (remaining > 0) {
      const n = writeSync(fd, chunk, 0, Math.min(chunk.length, remaining));
      written += n;
      remaining -= n;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return written;
}

function walBytes(warehousePath: string): number {
  const wal = `${warehousePath}.wal`;
  return existsSync(wal) ? statSync(wal).size : 0;
}

/** The worker is gone (it exited to be restarted): start it again as the supervisor would, and check what it recorded. */
async function restartAsSupervisor(s: Stack, workerEnv: Record<string, string>, jobId: number): Promise<void> {
  await s.waitWorkerExit(30_000);
  await s.startWorker(workerEnv);
  const status = await s.prisma.workerStatus.findUniqueOrThrow({ where: { id: "default" } });
  assert.ok(status.restarts >= 1, `restarts ${status.restarts}`);
  assert.match(status.lastExitReason ?? "", /exited to be restarted: The warehouse disk at .* is full/);
  // The job stays failed until the user retries it.
  await sleep(2_500);
  assert.equal((await s.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } })).actualState, "failed");
}

/** What the console's Retry does (jobs.resume). */
async function retry(s: Stack, jobId: number): Promise<void> {
  await s.prisma.syncJob.update({ where: { id: jobId }, data: { desiredState: "running", actualState: "pending", lastError: null, lastErrorAt: null } });
}

async function assertEqualOnce(s: Stack, warehousePath: string, tables: string[]): Promise<void> {
  const warehouse = await Warehouse.open(warehousePath);
  try {
    for (const table of tables) assert.deepEqual(digestRows(await warehouse.readAll("ods", table)), digestRows(await sourceRows(s, "shop", table)), table);
    const applied = await warehouse.twoPhaseSink().appliedTimes("job-");
    assert.ok(applied.size > 0, "loads were applied");
    assert.deepEqual([...applied.entries()].filter(([, times]) => times > 1), [], "no label applied twice");
  } finally {
    await warehouse.close();
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("a full warehouse disk fails the job with the cause and the remedy; after freeing space, Retry brings it back to equality", async (t) => {
  if (skipReason) return t.skip(skipReason);
  const s = stack!;
  const warehousePath = join(mountPoint!, "warehouse.duckdb");
  const workerEnv = { TIDE_WAREHOUSE_PATH: warehousePath };
  await seedItems(s.source, 20_000);
  const jobId = await s.createJob(sourceSpec(s, "items", "shop\\.items"));
  await s.startWorker(workerEnv);
  await waitForState(s, jobId, "streaming", 60_000);

  const workload = new RandomWorkload(s.source, { maxId: 20_000, pauseMs: 1 });
  workload.start();
  try {
    await sleep(1_500);
    const filler = join(mountPoint!, "filler");
    const filled = fillDisk(filler);
    t.diagnostic(`filled ${Math.round(filled / 1024 / 1024)} MiB; warehouse file ${Math.round(statSync(warehousePath).size / 1024 / 1024)} MiB`);

    await waitForState(s, jobId, "failed", 60_000);
    const failed = await s.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } });
    assert.ok(failed.lastError?.includes(`The warehouse disk at ${mountPoint} is full`), failed.lastError ?? "");
    assert.match(failed.lastError ?? "", /No space left on device/);
    assert.match(failed.lastError ?? "", /Free space on it, then Retry the job/);

    // Not retried silently: it stays failed, with the same message, while the disk is full.
    await sleep(4_000);
    const still = await s.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } });
    assert.equal(still.actualState, "failed");
    assert.equal(still.lastError, failed.lastError);
    const workerExited = !alive(s.workerPid());
    t.diagnostic(workerExited ? "DuckDB invalidated the warehouse: the worker exited to be restarted" : "the warehouse stayed usable: the worker kept running");

    await workload.stop();
    rmSync(filler);

    if (workerExited) {
      assert.match(failed.lastError ?? "", /The worker restarts itself to reopen the warehouse/);
      await restartAsSupervisor(s, workerEnv, jobId);
    }

    await retry(s, jobId);
    await waitForState(s, jobId, "streaming", 60_000);
    await waitCaughtUp(s, jobId, 90_000);
  } finally {
    await workload.stop();
  }
  await s.stopWorker();
  await assertEqualOnce(s, warehousePath, ["items"]);
});

test("a disk that fills during DuckDB's checkpoint invalidates the warehouse: the worker exits and restarts, the job waits for Retry", async (t) => {
  if (skipReason) return t.skip(skipReason);
  const s = stack!;
  const warehousePath = join(mountPoint!, "warehouse.duckdb");
  const workerEnv = { TIDE_WAREHOUSE_PATH: warehousePath };
  // 400 rows of 64 KiB of random text: a checkpoint rewrites far more than the few MiB left.
  await s.source.sql("CREATE TABLE shop.blobs (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)");
  const body = () => randomBytes(32 * 1024).toString("hex");
  for (let id = 0; id < 400; id += 20) {
    await s.source.sql("INSERT INTO shop.blobs VALUES ?", [Array.from({ length: 20 }, (_, i) => [id + i, body()])]);
  }
  if (!s.workerPid() || !alive(s.workerPid())) await s.startWorker(workerEnv);
  const jobId = await s.createJob(sourceSpec(s, "blobs", "shop\\.blobs"));
  await waitForState(s, jobId, "streaming", 90_000);

  const conn = await s.source.connect("shop");
  let updating = true;
  let round = 0;
  const updater = (async () => {
    while (updating) {
      await conn.beginTransaction();
      for (let i = 0; i < 4; i++) await conn.query("UPDATE blobs SET body = ? WHERE id = ?", [body(), (round * 4 + i) % 400]);
      await conn.commit();
      round += 1;
      // Paced so that one checkpoint interval's commit (a few MiB of WAL) fits the room left below,
      // and only the checkpoint, which rewrites the whole table, does not.
      await sleep(25);
    }
  })();
  const filler = join(mountPoint!, "filler");
  try {
    const until = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 120_000;
      while (!done()) {
        assert.ok(Date.now() < deadline, `${what}: the WAL stayed at ${walBytes(warehousePath)} bytes`);
        await sleep(20);
      }
    };
    // The snapshot's one big transaction may leave the WAL past the threshold: the next commits checkpoint it.
    await until("a checkpoint after the snapshot", () => walBytes(warehousePath) < CHECKPOINT_THRESHOLD / 2);
    // Once the WAL is well on its way to the threshold, leave room for it to get there, not for the checkpoint.
    await until("the WAL growing", () => walBytes(warehousePath) >= 10 * MiB);
    const wal = walBytes(warehousePath);
    assert.ok(wal < CHECKPOINT_THRESHOLD, `the WAL is at ${wal} bytes`);
    const filled = fillDisk(filler, CHECKPOINT_THRESHOLD - wal + 8 * MiB);
    t.diagnostic(`WAL at ${(wal / MiB).toFixed(1)} MiB; filled ${Math.round(filled / MiB)} MiB`);

    await waitForState(s, jobId, "failed", 90_000);
    const failed = await s.prisma.syncJob.findUniqueOrThrow({ where: { id: jobId } });
    assert.ok(failed.lastError?.includes(`The warehouse disk at ${mountPoint} is full`), failed.lastError ?? "");
    assert.match(failed.lastError ?? "", /The worker restarts itself to reopen the warehouse/);
    await s.waitWorkerExit(30_000);
    updating = false;
    await updater;
    rmSync(filler);
    await restartAsSupervisor(s, workerEnv, jobId);

    await retry(s, jobId);
    await waitForState(s, jobId, "streaming", 60_000);
    await waitCaughtUp(s, jobId, 90_000);
  } finally {
    updating = false;
    await updater.catch(() => undefined);
    await conn.end();
    rmSync(filler, { force: true });
  }
  await s.stopWorker();
  await assertEqualOnce(s, warehousePath, ["blobs"]);
});
