// A concurrent random workload on the source: inserts, updates, deletes,
// multi-statement transactions and rollbacks, until stopped.
import mysql from "mysql2/promise";
import type { LocalMariadb } from "@tide/local-mariadb";

export const ITEMS_DDL = `CREATE TABLE shop.items (
  id BIGINT PRIMARY KEY AUTO_INCREMENT,
  sku VARCHAR(32) NOT NULL,
  title VARCHAR(200) NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(12,2) NOT NULL,
  status ENUM('new','paid','shipped','cancelled') NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  note TEXT NULL
)`;

/** Append-only table without a key: a duplicate delivery would show as an extra row. */
export const EVENTS_DDL = `CREATE TABLE shop.events (item_id BIGINT NOT NULL, kind VARCHAR(20) NOT NULL, seq BIGINT NOT NULL, at DATETIME(6) NOT NULL)`;

export async function seedItems(mariadb: LocalMariadb, rows: number): Promise<void> {
  await mariadb.sql(ITEMS_DDL);
  await mariadb.sql(
    `INSERT INTO shop.items (id, sku, title, qty, price, status, updated_at, note)
     SELECT seq, CONCAT('SKU-', seq), CONCAT('Item ', seq, ' ✓'), seq % 97, (seq % 10000) / 100, ELT(1 + seq % 4, 'new','paid','shipped','cancelled'),
            TIMESTAMP('2026-01-01') + INTERVAL seq SECOND + INTERVAL (seq % 999999) MICROSECOND, IF(seq % 5 = 0, NULL, REPEAT('n', seq % 40))
     FROM shop.seq_1_to_${rows}`,
  );
}

/** Updates items 1..count (qty and updated_at) in transactions of 10k rows: a binlog of `count` row changes. */
export async function updateItems(mariadb: LocalMariadb, count: number): Promise<void> {
  for (let first = 1; first <= count; first += 10_000) {
    await mariadb.sql(`UPDATE shop.items SET qty = qty + 1, updated_at = NOW(6) WHERE id BETWEEN ${first} AND ${Math.min(count, first + 9_999)}`);
  }
}

export interface WorkloadStats {
  transactions: number;
  rollbacks: number;
  events: number;
}

export class RandomWorkload {
  private running = false;
  private loop: Promise<void> | undefined;
  readonly stats: WorkloadStats = { transactions: 0, rollbacks: 0, events: 0 };
  private seq = 0;

  constructor(
    private readonly mariadb: LocalMariadb,
    private readonly options: { maxId: number; withEvents?: boolean; pauseMs?: number },
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<WorkloadStats> {
    this.running = false;
    await this.loop;
    return this.stats;
  }

  private async run(): Promise<void> {
    const conn = await mysql.createConnection({ host: "127.0.0.1", port: this.mariadb.port, user: "root", database: "shop" });
    let maxId = this.options.maxId;
    try {
      while (this.running) {
        const rollback = Math.random() < 0.1;
        const statements = 1 + Math.floor(Math.random() * 4);
        await conn.beginTransaction();
        for (let i = 0; i < statements; i++) {
          const r = Math.random();
          const id = 1 + Math.floor(Math.random() * maxId);
          if (r < 0.4) {
            const n = 1 + Math.floor(Math.random() * 20);
            const values = Array.from({ length: n }, () => [
              `SKU-N${++maxId}`,
              `New item ${maxId} 🚀`,
              Math.floor(Math.random() * 100),
              (Math.random() * 1000).toFixed(2),
              "new",
              new Date().toISOString().replace("T", " ").replace("Z", ""),
              Math.random() < 0.3 ? null : "fresh",
            ]);
            await conn.query("INSERT INTO items (sku, title, qty, price, status, updated_at, note) VALUES ?", [values]);
          } else if (r < 0.75) {
            await conn.query(
              "UPDATE items SET qty = qty + 1, price = price + 0.01, status = ?, updated_at = NOW(6), note = ? WHERE id BETWEEN ? AND ?",
              [["new", "paid", "shipped", "cancelled"][Math.floor(Math.random() * 4)], Math.random() < 0.5 ? null : "changed", id, id + Math.floor(Math.random() * 5)],
            );
          } else {
            await conn.query("DELETE FROM items WHERE id BETWEEN ? AND ?", [id, id + Math.floor(Math.random() * 3)]);
          }
          if (this.options.withEvents) {
            await conn.query("INSERT INTO events (item_id, kind, seq, at) VALUES (?, ?, ?, NOW(6))", [id, r < 0.4 ? "insert" : r < 0.75 ? "update" : "delete", ++this.seq]);
            if (!rollback) this.stats.events += 1;
          }
        }
        if (rollback) {
          await conn.rollback();
          this.stats.rollbacks += 1;
        } else {
          await conn.commit();
          this.stats.transactions += 1;
        }
        if (this.options.pauseMs) await new Promise((r) => setTimeout(r, this.options.pauseMs));
      }
    } finally {
      await conn.end();
    }
  }
}
