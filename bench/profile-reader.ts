// Profiling aid: Tide's binlog reader alone over a catch-up of CHANGES updates
// (no warehouse), in this thread (THREAD=0, default) or its own thread (THREAD=1),
// ROUNDS times over the same binlog.
// Run with --cpu-prof to see where decoding spends its time:
//   CHANGES=300000 node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/profile-reader.ts
import { resolve } from "node:path";
import { rmSync } from "node:fs";
import { BinlogReader, currentPosition } from "@tide/cdc-mysql";
import { ThreadedBinlogReader } from "@tide/cdc-mysql/threaded-binlog-reader";
import { LocalMariadb } from "@tide/local-mariadb";
import { seedItems, updateItems } from "../apps/worker/test/workload";

const CHANGES = Number(process.env.CHANGES ?? 300_000);
const dataDir = resolve(import.meta.dirname, "../.test-data/profile-reader");
rmSync(dataDir, { recursive: true, force: true });
const db = await LocalMariadb.start({ dataDir, fresh: true });
try {
  const source = { host: "127.0.0.1", port: db.port, user: "root", password: "" };
  await db.sql("CREATE DATABASE shop");
  await seedItems(db, CHANGES);
  const from = await currentPosition(source);
  await updateItems(db, CHANGES);
  for (let round = 0; round < Number(process.env.ROUNDS ?? 1); round++) {
    const options = { source, serverId: 4242 + round, startAt: from };
    const reader =
      process.env.THREAD === "1"
        ? new ThreadedBinlogReader({ ...options, tables: ["shop.items"] })
        : new BinlogReader({ ...options, includeTable: (database, table) => database === "shop" && table === "items" });
    const started = performance.now();
    await reader.start();
    let seen = 0;
    while (seen < CHANGES) for (const tx of await reader.poll(20_000, 1_000)) for (const t of tx.tables) seen += t.changes.length;
    const seconds = (performance.now() - started) / 1000;
    await reader.stop();
    console.log(`${process.env.THREAD === "1" ? "threaded" : "in-thread"} reader: ${seen} changes in ${seconds.toFixed(2)} s, ${Math.round(seen / seconds)} changes/s`);
  }
} finally {
  await db.stop();
}
