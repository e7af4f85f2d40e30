// Profiling aid: a snapshot and a binlog catch-up through the real worker, with
// the worker's peak RSS in each. ROWS, CHANGES, PAR (parallelism) set the size;
// TIDE_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" writes CPU profiles.
// Run: node --import tsx bench/profile-sync.ts (the benchmarks proper: bench/run.ts).
import { seedItems, updateItems } from "../apps/worker/test/workload";
import { sourceSpec, startStack, waitCaughtUp, waitForState } from "../apps/worker/test/stack";
import { WorkerRssSampler } from "./worker-rss";
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const CHANGES = Number(process.env.CHANGES ?? 500_000);
const stack = await startStack("profile");
const rss = new WorkerRssSampler(() => stack.workerPid(), 100);
try {
  await seedItems(stack.source, ROWS);
  const jobId = await stack.createJob(sourceSpec(stack, "p", "shop\\.items", { pipeline: { name: "p", parallelism: Number(process.env.PAR ?? 1) } }));
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 30 * 60_000);
  const tbl = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId } });
  const snapS = (tbl.snapshotFinishedAt!.getTime() - tbl.snapshotStartedAt!.getTime()) / 1000;
  console.log(`peak RSS during the snapshot ${Math.round(rss.peakMiB())} MiB`);
  rss.reset();
  console.log(`snapshot ${ROWS} rows in ${snapS.toFixed(1)} s: ${Math.round(ROWS / snapS)} rows/s`);
  await stack.stopWorker();
  await updateItems(stack.source, CHANGES);
  await stack.startWorker();
  await waitForState(stack, jobId, "streaming", 60_000);
  const t = performance.now();
  await waitCaughtUp(stack, jobId, 30 * 60_000);
  const s = (performance.now() - t) / 1000;
  console.log(`peak RSS during the catch-up ${Math.round(rss.peakMiB())} MiB`);
  console.log(`apply ${CHANGES} changes in ${s.toFixed(1)} s: ${Math.round(CHANGES / s)} changes/s`);
  await stack.stopWorker();
} finally {
  rss.stop();
  await stack.close();
}
