// Tables in non-transactional engines (MyISAM, Aria) have no consistent
// snapshot: a range read sees every write up to its position and maybe some
// after it. Keyed tables still end equal, because every change after the
// range's position is applied again and an upsert or delete by key gives the
// same result twice. This test holds the product to that, under writes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { ITEMS_DDL } from "./workload";
import { digestRows, sleep, sourceRows, sourceSpec, startStack, waitCaughtUp, waitForState, warehouseRows, type Stack } from "./stack";

let stack: Stack;
const ENGINES = ["MyISAM", "Aria"] as const;

before(async () => {
  stack = await startStack("engines");
});

after(async () => {
  await stack?.close();
});

async function write(table: string, stop: () => boolean): Promise<number> {
  const conn = await mysql.createConnection({ host: "127.0.0.1", port: stack.source.port, user: "root", database: "shop" });
  let statements = 0;
  try {
    while (!stop()) {
      const id = 1 + Math.floor(Math.random() * 60_000);
      const r = Math.random();
      if (r < 0.4) {
        await conn.query(`INSERT INTO ${table} (sku, title, qty, price, status, updated_at, note) VALUES ('SKU-N', 'new 🚀', 1, 9.99, 'new', NOW(6), NULL)`);
      } else if (r < 0.8) {
        await conn.query(`UPDATE ${table} SET qty = qty + 1, status = 'paid', updated_at = NOW(6) WHERE id BETWEEN ? AND ?`, [id, id + 3]);
      } else {
        await conn.query(`DELETE FROM ${table} WHERE id BETWEEN ? AND ?`, [id, id + 2]);
      }
      statements += 1;
    }
  } finally {
    await conn.end();
  }
  return statements;
}

test("MyISAM and Aria tables snapshotted in ranges under writes, then streamed, end equal to the source", async () => {
  for (const engine of ENGINES) {
    const table = `items_${engine.toLowerCase()}`;
    await stack.source.sql(`${ITEMS_DDL.replace("shop.items", `shop.${table}`)} ENGINE=${engine};
      INSERT INTO shop.${table} (id, sku, title, qty, price, status, updated_at, note)
      SELECT seq, CONCAT('SKU-', seq), CONCAT('Item ', seq), seq % 97, (seq % 10000) / 100, 'new', '2026-01-01 00:00:00', NULL FROM shop.seq_1_to_60000`);
  }
  const [{ engines }] = (await stack.source.sql("SELECT GROUP_CONCAT(ENGINE ORDER BY TABLE_NAME) AS engines FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME LIKE 'items\\_%'")) as [{ engines: string }];
  assert.equal(engines, "Aria,MyISAM");

  let stop = false;
  const writers = ENGINES.map((engine) => write(`items_${engine.toLowerCase()}`, () => stop));
  const jobId = await stack.createJob(sourceSpec(stack, "engines", "shop\\.items_(myisam|aria)", { pipeline: { name: "engines", parallelism: 2 } }));
  await stack.startWorker({ TIDE_SNAPSHOT_CHUNK_ROWS: "3000" });
  await waitForState(stack, jobId, "streaming", 120_000);
  await sleep(1_500);
  stop = true;
  for (const statements of await Promise.all(writers)) assert.ok(statements > 100, `a writer ran only ${statements} statements`);
  await waitCaughtUp(stack, jobId);
  await stack.stopWorker();

  for (const engine of ENGINES) {
    const table = `items_${engine.toLowerCase()}`;
    const source = digestRows(await sourceRows(stack, "shop", table));
    assert.ok(source.rows > 50_000, `${table}: ${source.rows} rows`);
    assert.deepEqual(digestRows(await warehouseRows(stack, "ods", table)), source, table);
  }
});
