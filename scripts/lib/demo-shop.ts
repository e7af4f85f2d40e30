// The demo's source database "shop": customers, products and orders, and a
// generator that keeps inserting, updating and deleting orders so the console
// has live changes to show from the first minute.
import type { Connection } from "mysql2/promise";

export async function createShop(conn: Connection): Promise<void> {
  await conn.query(`CREATE DATABASE IF NOT EXISTS shop`);
  await conn.query(`CREATE TABLE IF NOT EXISTS shop.customers (
    id INT PRIMARY KEY AUTO_INCREMENT,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(200) NOT NULL,
    country CHAR(2) NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
  )`);
  await conn.query(`CREATE TABLE IF NOT EXISTS shop.products (
    id INT PRIMARY KEY AUTO_INCREMENT,
    sku VARCHAR(32) NOT NULL UNIQUE,
    title VARCHAR(200) NOT NULL,
    price DECIMAL(10,2) NOT NULL
  )`);
  await conn.query(`CREATE TABLE IF NOT EXISTS shop.orders (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    customer_id INT NOT NULL,
    product_id INT NOT NULL,
    quantity INT NOT NULL,
    amount DECIMAL(12,2) NOT NULL,
    status ENUM('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
  )`);
  const [[{ n }]] = (await conn.query(`SELECT COUNT(*) AS n FROM shop.customers`)) as unknown as [[{ n: number | string }]];
  if (Number(n) > 0) return;
  const countries = ["DE", "FR", "US", "JP", "BR", "IN", "NL", "SE"];
  const customers = Array.from({ length: 200 }, (_, i) => [`Customer ${i + 1}`, `c${i + 1}@example.com`, countries[i % countries.length]]);
  await conn.query(`INSERT INTO shop.customers (name, email, country) VALUES ?`, [customers]);
  const products = Array.from({ length: 50 }, (_, i) => [`SKU-${1000 + i}`, `Product ${i + 1}`, (5 + ((i * 37) % 200)).toFixed(2)]);
  await conn.query(`INSERT INTO shop.products (sku, title, price) VALUES ?`, [products]);
  const orders = Array.from({ length: 5000 }, (_, i) => {
    const quantity = 1 + (i % 5);
    return [1 + (i % 200), 1 + (i % 50), quantity, (quantity * (5 + ((i * 37) % 200))).toFixed(2), ["new", "paid", "shipped"][i % 3]];
  });
  await conn.query(`INSERT INTO shop.orders (customer_id, product_id, quantity, amount, status) VALUES ?`, [orders]);
}

/** Writes a few order changes every `everyMs` until stopped. */
export class ShopGenerator {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  changes = 0;

  constructor(
    private readonly conn: Connection,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.step(), this.everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
  }

  private async step(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const roll = Math.random();
      if (roll < 0.6) {
        const quantity = 1 + Math.floor(Math.random() * 5);
        await this.conn.query(
          `INSERT INTO shop.orders (customer_id, product_id, quantity, amount) SELECT ?, p.id, ?, p.price * ? FROM shop.products p WHERE p.id = ?`,
          [1 + Math.floor(Math.random() * 200), quantity, quantity, 1 + Math.floor(Math.random() * 50)],
        );
      } else if (roll < 0.9) {
        await this.conn.query(
          `UPDATE shop.orders SET status = ELT(FIELD(status, 'new', 'paid', 'shipped') + 1, 'new', 'paid', 'shipped', 'shipped')
           WHERE id = (SELECT id FROM (SELECT id FROM shop.orders WHERE status <> 'shipped' ORDER BY RAND() LIMIT 1) AS pick)`,
        );
      } else {
        await this.conn.query(
          `DELETE FROM shop.orders WHERE id = (SELECT id FROM (SELECT id FROM shop.orders ORDER BY id LIMIT 1) AS oldest)`,
        );
      }
      this.changes++;
    } catch (error) {
      console.error(`tide demo: generator: ${(error as Error).message}`);
    } finally {
      this.busy = false;
    }
  }
}
