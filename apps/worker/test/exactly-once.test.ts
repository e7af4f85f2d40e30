// Exactly once through every fault: the worker dies at each named crash point
// and at 20 random moments (during snapshots and streaming) under a random
// workload with multi-statement transactions and rollbacks. Afterwards every
// warehouse table equals its source, every committed event is there once, and
// no load label was ever applied twice.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Warehouse } from "@tide/warehouse";
import { EVENTS_DDL, RandomWorkload, seedItems } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  stack = await startStack("exactly-once");
});

after(async () => {
  await stack?.close();
});

test("every crash point and 20 random kill -9s leave the warehouse equal to the source, each label applied once", async () => {
  await seedItems(stack.source, 60_000);
  await stack.source.sql(EVENTS_DDL);
  await stack.source.sql("CREATE TABLE shop.big (id INT PRIMARY KEY, v VARCHAR(40)); INSERT INTO shop.big SELECT seq, CONCAT('value ', seq) FROM shop.seq_1_to_150000;");
  const workload = new RandomWorkload(stack.source, { maxId: 60_000, withEvents: true, pauseMs: 2 });
  workload.start();
  const items = await stack.createJob(
    sourceSpec(stack, "items-and-events", "shop\\.items,shop\\.events", { transform: [{ "source-table": "shop\\.events", "table-model": "duplicate" }] }),
  );

  // A crash in the middle of the snapshot (its third 20k-row batch), then one at each step of a checkpoint.
  for (const point of ["during-snapshot@3", "after-write@40", "after-precommit@5", "after-checkpoint@5", "mid-commit@5"]) {
    await stack.startWorker({ TIDE_TEST_CRASH_POINTS: point }, { allowExit: true });
    await stack.waitWorkerExit(90_000);
    const log = await import("node:fs").then((fs) => fs.readFileSync(stack.workerLog, "utf8"));
    assert.match(log, new RegExp(`crash point "${point.split("@")[0]}" reached`), `crash point ${point} fired`);
  }

  // Random kills; a second job's 150k-row snapshot is in flight for some of them, while its
  // table is written too (updates, inserts, deletes, rollbacks).
  await stack.startWorker();
  await waitForState(stack, items, "streaming", 90_000);
  const bigWriter = new BigTableWriter(stack);
  bigWriter.start();
  const big = await stack.createJob(sourceSpec(stack, "big", "shop\\.big"));
  const bigStates: string[] = [];
  const itemsStates: string[] = [];
  for (let kill = 0; kill < 20; kill++) {
    await sleep(300 + Math.random() * 1_700);
    const jobs = await stack.prisma.syncJob.findMany({ where: { id: { in: [big, items] } } });
    bigStates.push(jobs.find((j) => j.id === big)!.actualState);
    itemsStates.push(jobs.find((j) => j.id === items)!.actualState);
    await stack.killWorker();
    await stack.startWorker();
  }
  assert.ok(bigStates.includes("snapshotting"), `some kills land in big's snapshot: ${bigStates.join(", ")}`);
  assert.ok(itemsStates.includes("streaming"), `some kills land while items streams: ${itemsStates.join(", ")}`);
  const bigStats = await bigWriter.stop();
  assert.ok(bigStats.transactions > 20 && bigStats.rollbacks > 0, JSON.stringify(bigStats));
  await waitForState(stack, items, "streaming", 90_000);
  await waitForState(stack, big, "streaming", 120_000);
  await sleep(1_000);
  const stats = await workload.stop();
  assert.ok(stats.rollbacks > 0 && stats.transactions > 100, JSON.stringify(stats));
  await waitCaughtUp(stack, items);
  await waitCaughtUp(stack, big);
  await stack.stopWorker();

  const events = await warehouseRows(stack, "ods", "events");
  assert.equal(events.length, stats.events, "every committed event, exactly once");
  assert.equal(new Set(events.map((e) => String(e.seq))).size, events.length, "no event twice");
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "items")), digestRows(await sourceRows(stack, "shop", "items")));
  assert.deepEqual(digestRows(await warehouseRows(stack, "ods", "big")), digestRows(await sourceRows(stack, "shop", "big")));

  const warehouse = await Warehouse.open(join(stack.env.TIDE_DATA_DIR!, "warehouse.duckdb"));
  try {
    const applied = await warehouse.twoPhaseSink().appliedTimes("job-");
    assert.ok(applied.size > 10, `only ${applied.size} loads`);
    assert.deepEqual([...applied.entries()].filter(([, times]) => times > 1), [], "no label applied twice");
  } finally {
    await warehouse.close();
  }
  const status = await stack.prisma.workerStatus.findUniqueOrThrow({ where: { id: "default" } });
  assert.ok(status.restarts >= 25, `restarts recorded: ${status.restarts}`);

  // And the users' own check agrees: Verify finds no difference.
  await stack.startWorker();
  const requested = await Promise.all(
    [
      [items, "items"],
      [items, "events"],
      [big, "big"],
    ].map(([jobId, table]) => stack.prisma.verification.create({ data: { jobId: jobId as number, sourceDatabase: "shop", sourceTable: table as string, status: "requested" } })),
  );
  for (const r of requested) {
    let v = r;
    while (!["equal", "different", "failed"].includes(v.status)) {
      await sleep(200);
      v = await stack.prisma.verification.findUniqueOrThrow({ where: { id: r.id } });
    }
    assert.equal(v.status, "equal", `${v.sourceTable}: ${v.message}`);
  }
});

/** Writes shop.big (the table a snapshot is reading) in small transactions, a tenth rolled back. */
class BigTableWriter {
  private running = false;
  private loop: Promise<void> | undefined;
  readonly stats = { transactions: 0, rollbacks: 0 };

  constructor(private readonly stack: Stack) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<{ transactions: number; rollbacks: number }> {
    this.running = false;
    await this.loop;
    return this.stats;
  }

  private async run(): Promise<void> {
    const conn = await this.stack.source.connect();
    let nextId = 150_001;
    try {
      while (this.running) {
        const rollback = Math.random() < 0.1;
        await conn.beginTransaction();
        const id = 1 + Math.floor(Math.random() * 150_000);
        await conn.query("UPDATE shop.big SET v = CONCAT('changed ', ?) WHERE id BETWEEN ? AND ?", [this.stats.transactions, id, id + 50]);
        await conn.query("INSERT INTO shop.big (id, v) VALUES (?, 'inserted'), (?, 'inserted')", [nextId, nextId + 1]);
        nextId += 2;
        await conn.query("DELETE FROM shop.big WHERE id = ?", [1 + Math.floor(Math.random() * 150_000)]);
        if (rollback) {
          await conn.rollback();
          this.stats.rollbacks += 1;
        } else {
          await conn.commit();
          this.stats.transactions += 1;
        }
        await sleep(20);
      }
    } finally {
      await conn.end();
    }
  }
}
