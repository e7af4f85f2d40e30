// Faults seen from the browser. The e2e stack's one mariadbd holds both the
// metadata DB and the shared source databases, so these tests run their jobs
// against a private source server of their own, which they can stop and whose
// binlog they can purge without touching the other specs' jobs:
// - the source stops: the Job page says "Reconnecting (attempt n, next in s)",
//   and once it is back the job streams again and has the row written meanwhile;
// - the worker is killed with SIGKILL: the shell's worker status says it was
//   restarted and why, and the job streams again;
// - the binlog is purged past a paused job's position: resuming fails naming the
//   missing file, and Re-snapshot from the page brings the table back to equal.
import { expect, test, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import { LocalMariadb } from "@tide/local-mariadb";
import { createJob, jobState, signIn, warehouseQuery, type JobSource } from "./console";
import { E2E_DIR, e2eStack, sourceRoot, type E2EStack } from "./stack";

const ARTIFACTS = join(import.meta.dirname, "artifacts");
let stack: E2EStack;
let server: LocalMariadb;
let cdc: JobSource;
/** Root on the e2e stack's server, where the metadata DB `tide` lives. */
let metadata: Connection;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  stack = e2eStack();
  metadata = await sourceRoot(stack);
  server = await LocalMariadb.start({ dataDir: join(E2E_DIR, "faults-source"), fresh: true, serverId: 11 });
  cdc = { port: server.port, user: "cdc", password: randomBytes(12).toString("hex") };
  await server.sql(
    ["'cdc'@'%'", "'cdc'@'localhost'"]
      .map((u) => `CREATE USER ${u} IDENTIFIED BY '${cdc.password}'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO ${u};`)
      .join("") + "CREATE DATABASE faultdb;",
  );
});

test.afterAll(async () => {
  // Jobs left on a server that is going away would retry for the rest of the run.
  await metadata?.query("UPDATE tide.sync_jobs SET desired_state = 'stopped' WHERE name LIKE 'faults-%'");
  await metadata?.end();
  await server?.stop();
});

/** A keyed table of `rows` rows in faultdb, and a streaming job that syncs it into ods. */
async function streamingJob(page: Page, name: string, table: string, rows: number): Promise<number> {
  await server.sql(`
    CREATE TABLE faultdb.${table} (id INT PRIMARY KEY, note VARCHAR(60) NOT NULL, amount DECIMAL(10,2) NOT NULL);
    INSERT INTO faultdb.${table} SELECT seq, CONCAT('row ', seq), seq * 1.5 FROM faultdb.seq_1_to_${rows};
  `);
  const id = await createJob(page, cdc, {
    name,
    tables: `faultdb\\.${table}`,
    route: [{ "source-table": `faultdb\\.${table}`, "sink-table": `ods.${table}` }],
  });
  await page.goto(`/jobs/${id}`);
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  return id;
}

async function stopJob(page: Page, id: number): Promise<void> {
  const response = await page.request.post("/api/trpc/jobs.stop", { data: { id } });
  expect(response.ok(), await response.text()).toBe(true);
}

/** Waits until a warehouse query's first cell reads `expected`. */
async function expectWarehouse(page: Page, sql: string, expected: string, timeout = 15_000): Promise<void> {
  await expect
    .poll(async () => String((await warehouseQuery(page, sql)).rows[0]?.[0] ?? ""), { timeout, intervals: [250] })
    .toBe(expected);
}

test("a stopped source shows Reconnecting with the attempt; restarted, the job catches up by itself", async ({ page }) => {
  await signIn(page, stack);
  const id = await streamingJob(page, "faults-reconnect", "ticks", 50);
  await expectWarehouse(page, "SELECT count(*) FROM ods.ticks", "50");

  await server.stop();
  const downAt = Date.now();
  const notice = page.getByTestId("job-reconnecting");
  await expect(page.getByTestId("job-state")).toHaveText("reconnecting", { timeout: 20_000 });
  await expect(notice).toContainText(/Reconnecting \(attempt \d+, next in \d+ s\)/);
  // It keeps retrying, the attempt number counting up on the page.
  const attempt = async () => Number((await notice.textContent())?.match(/attempt (\d+)/)?.[1] ?? 0);
  await expect.poll(attempt, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  await page.screenshot({ path: join(ARTIFACTS, "faults-reconnecting.png"), fullPage: true });

  // Back up just after attempt 4 began its 4 s wait, so the row below is written while the job is
  // still away and has to come from the binlog when it reconnects.
  await expect
    .poll(async () => Number((await jobState(page, id)).lastError?.match(/attempt (\d+)/)?.[1] ?? 0), { timeout: 15_000, intervals: [100] })
    .toBeGreaterThanOrEqual(4);
  await server.launch();
  console.log(`source was down ${Date.now() - downAt} ms`);
  await server.sql("INSERT INTO faultdb.ticks VALUES (1001, 'written while Tide was away', 9.99)");
  expect((await jobState(page, id)).actualState).toBe("reconnecting");

  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 40_000 });
  await expect(notice).toHaveCount(0);
  await expect(page.getByTestId("job-error")).toHaveCount(0);
  await expectWarehouse(page, "SELECT note FROM ods.ticks WHERE id = 1001", "written while Tide was away");
  await expectWarehouse(page, "SELECT count(*) FROM ods.ticks", "51");
  console.log(`back to streaming and caught up ${Date.now() - downAt} ms after the source stopped`);
  await stopJob(page, id);
});

test("a worker killed with SIGKILL is restarted, the console says so and why, and the job streams again", async ({ page }) => {
  await signIn(page, stack);
  const id = await streamingJob(page, "faults-worker", "kills", 20);

  const health = (await (await fetch(`${stack.env.TIDE_WORKER_URL}/healthz`)).json()) as { pid: number };
  expect(health.pid).toBeGreaterThan(0);
  const status = page.getByTestId("worker-status");
  await expect(page.getByTestId("worker-status-started")).toContainText(`pid ${health.pid}`, { timeout: 10_000 });
  const restartsBefore = Number((await status.getAttribute("data-restarts")) ?? "NaN");
  expect(restartsBefore).toBeGreaterThanOrEqual(0);

  process.kill(health.pid, "SIGKILL");
  const restarts = restartsBefore + 1;
  await expect(status).toHaveAttribute("data-restarts", String(restarts), { timeout: 60_000 });
  await expect(status).toContainText(`Worker restarted ${restarts} ${restarts === 1 ? "time" : "times"} (killed by SIGKILL)`);
  await expect(page.getByTestId("worker-status-cause")).toHaveText("(killed by SIGKILL)");
  const reason = page.getByTestId("worker-status-reason");
  await expect(reason).toContainText(`The worker process (pid ${health.pid}) was killed by SIGKILL`);
  await expect(reason).toContainText("the supervisor restarted it");
  await expect(page.getByTestId("worker-status-started")).not.toContainText(`pid ${health.pid}`);
  await reason.click();
  await expect(reason).toHaveAttribute("aria-expanded", "true");
  await page.screenshot({ path: join(ARTIFACTS, "faults-worker-restarted.png"), fullPage: true });

  // The new process resumed the job from its checkpoint and follows the binlog again.
  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  await server.sql("INSERT INTO faultdb.kills VALUES (2001, 'after the restart', 1.00)");
  await expectWarehouse(page, "SELECT note FROM ods.kills WHERE id = 2001", "after the restart");
  await expectWarehouse(page, "SELECT count(*) FROM ods.kills", "21");
  await stopJob(page, id);
});

/** Count and an order-dependent digest of every row, the same expression on both sides. */
const SOURCE_CHECKSUM =
  "SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(CONCAT_WS('|', id, note, amount) ORDER BY id SEPARATOR ',')) AS digest FROM faultdb.ledger";
const WAREHOUSE_CHECKSUM = "SELECT count(*), md5(string_agg(concat_ws('|', id, note, amount), ',' ORDER BY id)) FROM ods.ledger";

test("a binlog purged past a paused job: resume fails naming the file; Re-snapshot brings the table back to equal", async ({ page }) => {
  await signIn(page, stack);
  const id = await streamingJob(page, "faults-purge", "ledger", 300);
  await server.sql("UPDATE faultdb.ledger SET note = 'seen before the pause' WHERE id <= 10");
  await expectWarehouse(page, "SELECT count(*) FROM ods.ledger WHERE note = 'seen before the pause'", "10");

  await page.getByTestId("job-pause").click();
  await expect(page.getByTestId("job-state")).toHaveText("paused", { timeout: 20_000 });
  const [checkpoints] = (await metadata.query("SELECT position FROM tide.checkpoints WHERE job_id = ? ORDER BY id DESC LIMIT 1", [id])) as unknown as [
    { position: string | { file: string } }[],
  ];
  const position = checkpoints[0]?.position;
  const savedFile = (typeof position === "string" ? (JSON.parse(position) as { file: string }) : position)?.file;
  expect(savedFile).toMatch(/^mysql-bin\.\d+$/);

  // Changes the job will never read from the binlog, then the binlog itself goes.
  await server.sql(`
    INSERT INTO faultdb.ledger SELECT 1000 + seq, CONCAT('while paused ', seq), seq FROM faultdb.seq_1_to_25;
    UPDATE faultdb.ledger SET amount = amount + 100 WHERE id BETWEEN 100 AND 120;
    DELETE FROM faultdb.ledger WHERE id BETWEEN 200 AND 209;
    FLUSH BINARY LOGS;
  `);
  const [master] = (await server.sql("SHOW MASTER STATUS")) as { File: string }[];
  expect(master!.File).not.toBe(savedFile);
  // PURGE quietly keeps a file until InnoDB's next log flush (about a second) has covered its
  // transactions, or while a dump thread still reads it: retry until the saved file is gone.
  await expect
    .poll(
      async () => {
        await server.sql(`PURGE BINARY LOGS TO '${master!.File}'`);
        return ((await server.sql("SHOW BINARY LOGS")) as { Log_name: string }[]).map((l) => l.Log_name);
      },
      { timeout: 15_000, intervals: [250] },
    )
    .not.toContain(savedFile);

  await page.getByTestId("job-resume").click();
  await expect(page.getByTestId("job-state")).toHaveText("failed", { timeout: 30_000 });
  const error = page.getByTestId("job-error");
  await expect(error).toContainText(savedFile!);
  await expect(error).toContainText(/purged/);
  await expect(error).toContainText(/re-snapshot/i);
  await expect(page.getByTestId("job-retry")).toHaveCount(0);
  await page.getByTestId("job-resnapshot").click();
  await expect(page.getByTestId("job-resnapshot-confirm")).toContainText("Copy the table again from the source?");
  await page.screenshot({ path: join(ARTIFACTS, "faults-binlog-purged.png"), fullPage: true });
  await page.getByTestId("job-resnapshot-confirm-yes").click();

  await expect(page.getByTestId("job-state")).toHaveText(/streaming/i, { timeout: 60_000 });
  await expect(error).toHaveCount(0);
  const [want] = (await server.sql(SOURCE_CHECKSUM)) as { n: string | number; digest: string }[];
  expect(Number(want!.n)).toBe(300 + 25 - 10);
  await expect
    .poll(async () => (await warehouseQuery(page, WAREHOUSE_CHECKSUM)).rows[0]?.map(String), { timeout: 15_000, intervals: [250] })
    .toEqual([String(want!.n), want!.digest]);

  const cell = page.getByTestId("verification-faultdb.ledger");
  await page.getByTestId("job-verify").click();
  await expect(cell).toHaveAttribute("data-status", "equal", { timeout: 60_000 });
  await expect(cell).toContainText("315");
  await page.screenshot({ path: join(ARTIFACTS, "faults-resnapshot-equal.png"), fullPage: true });
  await stopJob(page, id);
});
