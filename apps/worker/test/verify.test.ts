// Verify: equal after a random workload; a row deleted behind Tide's back in
// the warehouse is found and its key range named, for an integer key and for a
// VARCHAR key (compared in an ordered, streamed merge); a sparse BIGINT key is
// split by rows, not key values; and the source is read from plain read-only
// snapshots, without a global read lock.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Warehouse } from "@tide/warehouse";
import { RandomWorkload, seedItems } from "./workload";
import { sleep, sourceSpec, startStack, waitCaughtUp, waitForState, type Stack } from "./stack";

let stack: Stack;
let jobId: number;

const CODES_ROWS = 60_000;
/** Key prefixes whose collation order (utf8mb4_general_ci: a, B, é, Z, 😀) differs from their byte order (B, Z, a, é, 😀). */
const CODES_DDL = `CREATE TABLE shop.codes (
  code VARCHAR(40) NOT NULL PRIMARY KEY,
  label VARCHAR(100) NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  seen DATETIME(3) NOT NULL,
  raw VARBINARY(8) NULL,
  ratio DOUBLE NOT NULL
) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci`;
const DELETED_CODE = "é-12347";

before(async () => {
  stack = await startStack("verify");
  await seedItems(stack.source, 120_000);
  await stack.source.sql(CODES_DDL);
  await stack.source.sql(
    `INSERT INTO shop.codes SELECT CONCAT(ELT(1 + seq % 5, 'a', 'B', 'é', 'Z', '😀'), '-', seq), CONCAT('label ', seq), (seq % 100000) / 100 - 300,
       TIMESTAMP('2026-01-01') + INTERVAL seq SECOND + INTERVAL (seq % 1000) * 1000 MICROSECOND, IF(seq % 7 = 0, NULL, UNHEX(HEX(seq))), seq / 7
     FROM shop.seq_1_to_${CODES_ROWS}`,
  );
  await stack.source.sql("CREATE TABLE shop.sparse (id BIGINT PRIMARY KEY, v VARCHAR(20)); INSERT INTO shop.sparse SELECT seq * 1000000000000, CONCAT('v', seq) FROM shop.seq_1_to_2000;");
  jobId = await stack.createJob(sourceSpec(stack, "items", "shop\\.items,shop\\.codes,shop\\.sparse"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 120_000);
});

after(async () => {
  await stack?.close();
});

interface Difference {
  from: string;
  to: string;
  sourceRows: number;
  warehouseRows: number;
  sampleKeys: string[];
}

async function verify(table: string): Promise<{ status: string; differences: unknown; message: string | null; chunksDone: number; chunksTotal: number }> {
  const requested = await stack.prisma.verification.create({ data: { jobId, sourceDatabase: "shop", sourceTable: table, status: "requested" } });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await stack.prisma.verification.findUniqueOrThrow({ where: { id: requested.id } });
    if (["equal", "different", "failed"].includes(v.status)) return v;
    assert.ok(Date.now() < deadline, `verification of ${table} still ${v.status} (${v.chunksDone}/${v.chunksTotal})`);
    await sleep(200);
  }
}

test("verify reports no difference after a random workload, chunk by chunk", async () => {
  const workload = new RandomWorkload(stack.source, { maxId: 120_000 });
  workload.start();
  await sleep(2_000);
  await workload.stop();
  await waitCaughtUp(stack, jobId);
  const result = await verify("items");
  assert.equal(result.status, "equal", String(result.message));
  assert.ok(result.chunksTotal >= 4 && result.chunksDone === result.chunksTotal, `${result.chunksDone}/${result.chunksTotal}`);
});

test("a sparse BIGINT key (1e12, 2e12, ...) verifies in a few ranges sized by rows", async () => {
  const result = await verify("sparse");
  assert.equal(result.status, "equal", String(result.message));
  // Ranges of 50k key values would be 40 million here.
  assert.ok(result.chunksTotal <= 5 && result.chunksDone === result.chunksTotal, `${result.chunksDone}/${result.chunksTotal}`);
});

test("a VARCHAR key is compared in ordered ranges from read-only snapshots, without a global read lock", async () => {
  await stack.source.sql("SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1");
  let result;
  try {
    result = await verify("codes");
  } finally {
    await stack.source.sql("SET GLOBAL general_log = 0");
  }
  assert.equal(result.status, "equal", String(result.message));
  assert.ok(result.chunksTotal >= 2 && result.chunksDone === result.chunksTotal, `${result.chunksDone}/${result.chunksTotal}`);
  const statements = ((await stack.source.sql(
    "SELECT CONVERT(argument USING utf8mb4) AS q FROM mysql.general_log WHERE command_type = 'Query' AND (argument LIKE 'START TRANSACTION%' OR argument LIKE 'FLUSH TABLES%' OR argument LIKE '%codes%ORDER BY%')",
  )) as { q: string }[]).map((r) => r.q);
  assert.ok(statements.some((q) => q === "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"), statements.join("\n"));
  assert.ok(statements.some((q) => /ORDER BY CAST\(CONVERT\(`code` USING utf8mb4\) AS BINARY\)/.test(q)), statements.join("\n"));
  assert.ok(!statements.some((q) => /FLUSH TABLES/i.test(q)), statements.join("\n"));
});

test("a row deleted behind Tide's back is found and its key range named", async () => {
  await stack.stopWorker();
  const warehouse = await Warehouse.open(join(stack.env.TIDE_DATA_DIR!, "warehouse.duckdb"));
  const exists = (await warehouse.query("SELECT count(*) FROM ods.items WHERE id = 77777")).rows[0]?.[0];
  assert.equal(exists, "1");
  const codeExists = (await warehouse.query(`SELECT count(*) FROM ods.codes WHERE code = '${DELETED_CODE}'`)).rows[0]?.[0];
  assert.equal(codeExists, "1");
  // The warehouse's own API is read-only; go around it as an intruder would.
  const writer = (warehouse as unknown as { writer: { run(sql: string, values?: unknown[]): Promise<unknown> } }).writer;
  await writer.run("DELETE FROM ods.items WHERE id = 77777");
  await writer.run("DELETE FROM ods.codes WHERE code = $1", [DELETED_CODE]);
  await warehouse.close();
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);

  const result = await verify("items");
  assert.equal(result.status, "different");
  const differences = result.differences as Difference[];
  assert.equal(differences.length, 1, JSON.stringify(differences));
  assert.ok(BigInt(differences[0]!.from) <= 77777n && 77777n < BigInt(differences[0]!.to), JSON.stringify(differences[0]));
  assert.equal(differences[0]!.sourceRows - differences[0]!.warehouseRows, 1);
  assert.deepEqual(differences[0]!.sampleKeys, ["77777"]);
  assert.match(result.message ?? "", /1 key range differ/);

  const codes = await verify("codes");
  assert.equal(codes.status, "different", String(codes.message));
  const codeDifferences = codes.differences as Difference[];
  assert.equal(codeDifferences.length, 1, JSON.stringify(codeDifferences));
  const [d] = codeDifferences;
  const bytes = (s: string) => Buffer.from(s, "utf8");
  // The range is in byte order of the key: from inclusive, to exclusive, "" when open.
  assert.ok((d!.from === "" || Buffer.compare(bytes(d!.from), bytes(DELETED_CODE)) <= 0) && (d!.to === "" || Buffer.compare(bytes(DELETED_CODE), bytes(d!.to)) < 0), JSON.stringify(d));
  assert.ok(d!.from !== "" || d!.to !== "", `a range, not the whole table: ${JSON.stringify(d)}`);
  assert.equal(d!.sourceRows - d!.warehouseRows, 1, JSON.stringify(d));
  assert.deepEqual(d!.sampleKeys, [DELETED_CODE]);
  assert.match(codes.message ?? "", new RegExp(`1 key range differ.*${DELETED_CODE}`));
});
