// Verify: equal after a random workload; a row deleted behind Tide's back in
// the warehouse is found and its key range named.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Warehouse } from "@tide/warehouse";
import { RandomWorkload, seedItems } from "./workload";
import { sleep, sourceSpec, startStack, waitCaughtUp, waitForState, type Stack } from "./stack";

let stack: Stack;
let jobId: number;

before(async () => {
  stack = await startStack("verify");
  await seedItems(stack.source, 120_000);
  jobId = await stack.createJob(sourceSpec(stack, "items", "shop\\.items"));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);
});

after(async () => {
  await stack?.close();
});

async function verify(): Promise<{ status: string; differences: unknown; message: string | null; chunksDone: number; chunksTotal: number }> {
  const requested = await stack.prisma.verification.create({ data: { jobId, sourceDatabase: "shop", sourceTable: "items", status: "requested" } });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await stack.prisma.verification.findUniqueOrThrow({ where: { id: requested.id } });
    if (["equal", "different", "failed"].includes(v.status)) return v;
    assert.ok(Date.now() < deadline, `verification still ${v.status}`);
    await sleep(200);
  }
}

test("verify reports no difference after a random workload, chunk by chunk", async () => {
  const workload = new RandomWorkload(stack.source, { maxId: 120_000 });
  workload.start();
  await sleep(2_000);
  await workload.stop();
  await waitCaughtUp(stack, jobId);
  const result = await verify();
  assert.equal(result.status, "equal", String(result.message));
  assert.ok(result.chunksTotal >= 4 && result.chunksDone === result.chunksTotal, `${result.chunksDone}/${result.chunksTotal}`);
});

test("a row deleted behind Tide's back is found and its key range named", async () => {
  await stack.stopWorker();
  const warehouse = await Warehouse.open(join(stack.env.TIDE_DATA_DIR!, "warehouse.duckdb"));
  const exists = (await warehouse.query("SELECT count(*) FROM ods.items WHERE id = 77777")).rows[0]?.[0];
  assert.equal(exists, "1");
  // The warehouse's own API is read-only; go around it as an intruder would.
  await (warehouse as unknown as { writer: { run(sql: string): Promise<unknown> } }).writer.run("DELETE FROM ods.items WHERE id = 77777");
  await warehouse.close();
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);

  const result = await verify();
  assert.equal(result.status, "different");
  const differences = result.differences as { from: string; to: string; sourceRows: number; warehouseRows: number; sampleKeys: string[] }[];
  assert.equal(differences.length, 1, JSON.stringify(differences));
  assert.ok(BigInt(differences[0]!.from) <= 77777n && 77777n < BigInt(differences[0]!.to), JSON.stringify(differences[0]));
  assert.equal(differences[0]!.sourceRows - differences[0]!.warehouseRows, 1);
  assert.deepEqual(differences[0]!.sampleKeys, ["77777"]);
  assert.match(result.message ?? "", /1 key range differ/);
});
