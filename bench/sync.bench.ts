// Snapshot and binlog apply through the real worker process, next to the
// physical references measured in the same run: `mariadb-dump --quick` of the
// same table (the fastest a client reads the rows), Tide's own source read of
// the table with nothing written (what the snapshot could reach if the
// warehouse cost nothing), `mariadb-binlog`
// decoding the same stretch of binlog (the fastest a client decodes the
// changes), plus Tide's binlog reader alone on that stretch (what the apply
// could reach if writing to the warehouse cost nothing).
import { execFile } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { promisify } from "node:util";
import { ConsistentSnapshot, currentPosition, readTableSchema, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { ThreadedBinlogReader } from "@tide/cdc-mysql/threaded-binlog-reader";
import type { BinlogPosition } from "@tide/contracts";
import { seedItems, updateItems } from "../apps/worker/test/workload";
import { sleep, sourceSpec, startStack, waitCaughtUp, waitForState } from "../apps/worker/test/stack";
import type { BenchResult } from "./run";
import { WorkerRssSampler } from "./worker-rss";

const run = promisify(execFile);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 500_000);
/** Key ranges read at once by the measured job (pipeline.parallelism); a one-range-at-a-time run is the baseline. */
const PARALLELISM = Number(process.env.BENCH_PARALLELISM ?? 2);

export async function syncBenchmark(): Promise<BenchResult> {
  const stack = await startStack("bench-sync");
  const rss = new WorkerRssSampler(() => stack.workerPid());
  try {
    console.log(`seeding ${ROWS} rows`);
    await seedItems(stack.source, ROWS);

    const dumpStarted = performance.now();
    await run("mariadb-dump", ["--no-defaults", "-h127.0.0.1", `-P${stack.source.port}`, "-uroot", "--quick", "--single-transaction", "shop", "items", "--result-file=/dev/null"], { maxBuffer: 1 << 20 });
    const dumpSeconds = (performance.now() - dumpStarted) / 1000;
    const source = { host: "127.0.0.1", port: stack.source.port, user: "root", password: "" };
    const readAloneSeconds = await readWithTideSnapshot(source);

    // Baseline: the same snapshot reading one key range at a time, into a table of its own.
    const serialJob = await stack.createJob(
      sourceSpec(stack, "bench-serial", "shop\\.items", { pipeline: { name: "bench-serial", parallelism: 1 }, route: [{ "source-table": "shop.items", "sink-table": "ods.items_serial" }] }),
    );
    await stack.startWorker();
    await waitForState(stack, serialJob, "streaming", 30 * 60_000);
    const serialTable = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId: serialJob } });
    const serialSeconds = (serialTable.snapshotFinishedAt!.getTime() - serialTable.snapshotStartedAt!.getTime()) / 1000;
    await stack.stopWorker();
    await stack.prisma.syncJob.update({ where: { id: serialJob }, data: { desiredState: "stopped" } });

    const jobId = await stack.createJob(sourceSpec(stack, "bench", "shop\\.items", { pipeline: { name: "bench", parallelism: PARALLELISM } }));
    const started = performance.now();
    await stack.startWorker();
    await waitForState(stack, jobId, "streaming", 30 * 60_000);
    const endToEndSeconds = (performance.now() - started) / 1000;
    const table = await stack.prisma.syncJobTable.findFirstOrThrow({ where: { jobId } });
    const snapshotMetrics = await scrape(stack);
    const snapshotSeconds = (table.snapshotFinishedAt!.getTime() - table.snapshotStartedAt!.getTime()) / 1000;

    // Binlog apply: changes written while the worker is stopped, then caught up in one go.
    await stack.stopWorker();
    console.log(`writing ${CHANGES} row changes`);
    const changesFrom = await currentPosition(source);
    await updateItems(stack.source, CHANGES);
    const binlogToolSeconds = await decodeWithMariadbBinlog(stack.source.port, changesFrom);
    const readerSeconds = await readWithTideReader(source, changesFrom, CHANGES);
    await stack.startWorker();
    await waitForState(stack, jobId, "streaming", 60_000);
    const applyStarted = performance.now();
    await waitCaughtUp(stack, jobId, 30 * 60_000);
    const applySeconds = (performance.now() - applyStarted) / 1000;
    await sleep(200);
    const applyMetrics = await scrape(stack);

    const snapshotRate = ROWS / snapshotSeconds;
    const dumpRate = ROWS / dumpSeconds;
    return {
      name: "sync",
      ranAt: new Date().toISOString(),
      machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      figures: [
        { label: "rows in the table (8 columns)", value: ROWS, unit: "rows" },
        { label: "mariadb-dump --quick to /dev/null", value: dumpRate, unit: "rows/s", note: `${dumpSeconds.toFixed(1)} s, the reference` },
        { label: "Tide's source read alone (one range, nothing written)", value: ROWS / readAloneSeconds, unit: "rows/s", note: `${readAloneSeconds.toFixed(1)} s: rows received, parsed and normalised on one thread` },
        { label: "snapshot into the warehouse, one range at a time", value: ROWS / serialSeconds, unit: "rows/s", note: `${serialSeconds.toFixed(1)} s, parallelism 1` },
        { label: "snapshot into the warehouse", value: snapshotRate, unit: "rows/s", note: `${snapshotSeconds.toFixed(1)} s, parallelism ${PARALLELISM}` },
        { label: "parallel / one range at a time", value: serialSeconds / snapshotSeconds, unit: "ratio" },
        { label: "snapshot / mariadb-dump", value: snapshotRate / dumpRate, unit: "ratio" },
        { label: "snapshot / source read alone", value: readAloneSeconds / snapshotSeconds, unit: "ratio" },
        { label: "job created → streaming (worker start included)", value: endToEndSeconds, unit: "s" },
        { label: "binlog apply (updates, 10k-row transactions)", value: CHANGES / applySeconds, unit: "changes/s", note: `${CHANGES} changes in ${applySeconds.toFixed(1)} s` },
        { label: "mariadb-binlog decoding the same changes to /dev/null", value: CHANGES / binlogToolSeconds, unit: "changes/s", note: `${binlogToolSeconds.toFixed(1)} s, the reference` },
        { label: "Tide's binlog reader alone on the same changes", value: CHANGES / readerSeconds, unit: "changes/s", note: `${readerSeconds.toFixed(1)} s: received, decoded, handed to the applying thread, nothing written` },
        { label: "binlog apply / mariadb-binlog", value: binlogToolSeconds / applySeconds, unit: "ratio" },
        { label: "binlog apply / reader alone", value: readerSeconds / applySeconds, unit: "ratio" },
        {
          label: "share of snapshot time in DuckDB appends (commits not included)",
          value: (snapshotMetrics.tide_job_snapshot_write_seconds_total ?? 0) / (snapshotMetrics.tide_job_snapshot_seconds_total ?? 1),
          unit: "ratio",
          note: "the rest: reading and decoding source rows, and DuckDB commits with their key index",
        },
        {
          label: "share of binlog apply time in checkpoint commits",
          value: (applyMetrics.tide_job_apply_seconds_total ?? 0) / applySeconds,
          unit: "ratio",
          note: "precommit, checkpoint, commit; the rest is reading and decoding the binlog and staging",
        },
        { label: "worker peak RSS", value: rss.peakMiB(), unit: "MiB" },
      ],
    };
  } finally {
    rss.stop();
    await stack.close();
  }
}

/** Seconds Tide's snapshot read takes over the whole table (mysql2 rows, normalised, in batches) when the batches go nowhere. */
async function readWithTideSnapshot(source: SourceConnectionConfig): Promise<number> {
  const schema = await readTableSchema(source, "shop", "items");
  const started = performance.now();
  const snapshot = await ConsistentSnapshot.open(source, { position: false });
  try {
    await snapshot.readTable(schema, 10_000, async () => undefined);
  } finally {
    await snapshot.close();
  }
  return (performance.now() - started) / 1000;
}

/** Seconds `mariadb-binlog` takes to fetch the binlog from `from` to its end and decode every row event (to /dev/null). */
async function decodeWithMariadbBinlog(port: number, from: BinlogPosition): Promise<number> {
  const started = performance.now();
  await run(
    "sh",
    ["-c", `mariadb-binlog --no-defaults --read-from-remote-server -h127.0.0.1 -P${port} -uroot --base64-output=decode-rows --verbose --to-last-log --start-position=${from.pos} "$0" > /dev/null`, from.file],
    { maxBuffer: 1 << 20 },
  );
  return (performance.now() - started) / 1000;
}

/** Seconds Tide's (threaded) binlog reader takes from `from` until `changes` row changes are in hand. */
async function readWithTideReader(source: SourceConnectionConfig, from: BinlogPosition, changes: number): Promise<number> {
  const reader = new ThreadedBinlogReader({ source, serverId: 9_999, startAt: from, tables: ["shop.items"] });
  const started = performance.now();
  await reader.start();
  let seen = 0;
  try {
    for (;;) {
      const transactions = await reader.poll(20_000, 1_000);
      for (const tx of transactions) for (const t of tx.tables) seen += t.changes.length;
      if (seen >= changes) break;
      if (performance.now() - started > 30 * 60_000) throw new Error(`the reader saw ${seen} of ${changes} changes in 30 minutes`);
    }
    return (performance.now() - started) / 1000;
  } finally {
    await reader.stop();
  }
}

/** The worker's Prometheus metrics, summed over jobs, by name. */
async function scrape(stack: { env: Record<string, string> }): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.env.TIDE_WORKER_URL}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{[^}]*\})? ([\d.eE+-]+)$/.exec(line);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}
