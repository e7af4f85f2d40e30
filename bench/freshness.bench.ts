// Freshness: source commit to visible in a warehouse query, through the real
// worker with the default 1 s checkpoint interval, at 1k, 5k and 20k row
// changes per second. And the throughput cost of two-phase commit: the same
// change batches applied directly (one DuckDB transaction each, no staging)
// and through the two-phase sink (stage, precommit, commit), in the same run.
import { cpus, totalmem } from "node:os";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { RowChange, SinkTableSpec } from "@tide/contracts";
import { Warehouse } from "@tide/warehouse";
import { sleep, sourceSpec, startStack, waitForState, type Stack } from "../apps/worker/test/stack";
import type { BenchResult } from "./run";

const RATES = (process.env.BENCH_RATES ?? "1000,5000,20000").split(",").map(Number);
const SECONDS_PER_RATE = Number(process.env.BENCH_SECONDS ?? 30);
/** A probe not visible this long after the writing stopped counts as never seen (an infinite freshness). */
const GRACE_MS = 5_000;
const PROBE_EVERY_MS = 100;

export async function freshnessBenchmark(): Promise<BenchResult> {
  const figures: BenchResult["figures"] = [];
  const stack = await startStack("bench-freshness");
  try {
    await stack.source.sql(`CREATE TABLE shop.churn (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40) NOT NULL);
      INSERT INTO shop.churn SELECT seq, 0, 'initial' FROM shop.seq_1_to_100000;
      CREATE TABLE shop.probe (id INT PRIMARY KEY, seq BIGINT NOT NULL); INSERT INTO shop.probe VALUES (1, 0);`);
    const jobId = await stack.createJob(sourceSpec(stack, "freshness", "shop\\.churn,shop\\.probe"));
    await stack.startWorker();
    await waitForState(stack, jobId, "streaming", 60_000);
    for (const rate of RATES) {
      const { p50, p99, achieved, probes, missed } = await measureAtRate(stack, rate);
      figures.push(
        { label: `freshness p50 at ${rate} changes/s`, value: p50, unit: "ms", note: `${probes} probes (${missed} never seen), ${Math.round(achieved)} changes/s achieved` },
        { label: `freshness p99 at ${rate} changes/s`, value: p99, unit: "ms", note: rate === 5000 ? "target < 2000 ms" : undefined },
      );
    }
  } finally {
    await stack.close();
  }
  figures.push(...(await twoPhaseCost()));
  return { name: "freshness", ranAt: new Date().toISOString(), machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`, figures };
}

/** Writes `rate` row updates per second while probing how long a committed marker takes to be queryable. */
async function measureAtRate(stack: Stack, rate: number): Promise<{ p50: number; p99: number; achieved: number; probes: number; missed: number }> {
  const writer = await stack.source.connect("shop");
  const prober = await stack.source.connect("shop");
  const stopAt = Date.now() + SECONDS_PER_RATE * 1000;
  let written = 0;
  const started = Date.now();
  const writing = (async () => {
    // 10 ticks a second, each one transaction of rate/10 row updates.
    const perTick = Math.max(1, Math.round(rate / 10));
    let tick = 0;
    while (Date.now() < stopAt) {
      const first = 1 + ((tick * perTick) % (100_000 - perTick));
      await writer.query("UPDATE churn SET v = v + 1, note = 'changed' WHERE id BETWEEN ? AND ?", [first, first + perTick - 1]);
      written += perTick;
      tick++;
      const due = started + tick * 100;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  })();
  const committedAt = new Map<number, number>();
  const freshness: number[] = [];
  let seq = (await currentProbe(stack)) + 1;
  let seen = seq - 1;
  const probing = (async () => {
    while (Date.now() < stopAt) {
      await prober.query("UPDATE probe SET seq = ? WHERE id = 1", [seq]);
      committedAt.set(seq, Date.now());
      seq++;
      await sleep(PROBE_EVERY_MS);
    }
  })();
  const polling = (async () => {
    while (Date.now() < stopAt || (seen < seq - 1 && Date.now() < stopAt + GRACE_MS)) {
      const value = await currentProbe(stack);
      const now = Date.now();
      for (let s = seen + 1; s <= value; s++) {
        const at = committedAt.get(s);
        if (at !== undefined) freshness.push(now - at);
      }
      seen = Math.max(seen, value);
      await sleep(10);
    }
  })();
  await Promise.all([writing, probing]);
  await polling;
  await writer.end();
  await prober.end();
  // Probes never seen count as infinitely stale, so a stall shows in the percentiles instead of vanishing from them.
  const missed = committedAt.size - freshness.length;
  for (let i = 0; i < missed; i++) freshness.push(Number.POSITIVE_INFINITY);
  freshness.sort((a, b) => a - b);
  const pct = (p: number) => freshness[Math.min(freshness.length - 1, Math.floor((p / 100) * freshness.length))] ?? NaN;
  return { p50: pct(50), p99: pct(99), achieved: written / ((Date.now() - started) / 1000), probes: committedAt.size, missed };
}

async function currentProbe(stack: Stack): Promise<number> {
  const res = await fetch(`${stack.env.TIDE_WORKER_URL}/internal/query`, {
    method: "POST",
    headers: { authorization: `Bearer ${await internalSecret(stack)}`, "content-type": "application/json" },
    body: JSON.stringify({ sql: "SELECT seq FROM ods.probe WHERE id = 1", maxRows: 1 }),
  });
  const body = (await res.json()) as { rows?: unknown[][] };
  return Number(body.rows?.[0]?.[0] ?? 0);
}

let secret: string | undefined;
async function internalSecret(stack: Stack): Promise<string> {
  const { loadServerConfig } = await import("@tide/config");
  secret ??= loadServerConfig(stack.env).internalSecret;
  return secret;
}

/** The same 40 batches of 5,000 changes on a 1M-row keyed table: direct apply vs the two-phase sink. */
async function twoPhaseCost(): Promise<BenchResult["figures"]> {
  const dir = resolve(import.meta.dirname, "../.test-data/bench-2pc");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const results: Record<string, number> = {};
  for (const mode of ["direct", "two-phase"] as const) {
    const warehouse = await Warehouse.open(join(dir, `${mode}.duckdb`));
    const target: SinkTableSpec = {
      schema: "ods", table: "t", model: "unique", keyColumns: ["id"],
      columns: [{ name: "id", mysqlType: "int(11)", nullable: false }, { name: "v", mysqlType: "int(11)", nullable: false }, { name: "note", mysqlType: "varchar(40)", nullable: false }],
    };
    await warehouse.ensureTable(target);
    for (let i = 0; i < 1_000_000; i += 100_000) {
      await warehouse.appendRows({ jobId: "b", target, rows: Array.from({ length: 100_000 }, (_, j) => ({ id: i + j, v: 0, note: "initial" })) });
    }
    const sink = warehouse.twoPhaseSink();
    const batches = 40;
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      const changes: RowChange[] = Array.from({ length: 5_000 }, (_, i) => {
        const id = (b * 104_729 + i * 193) % 1_000_000;
        return { op: "update", before: { id, v: b, note: "x" }, after: { id, v: b + 1, note: "changed" } };
      });
      if (mode === "direct") {
        await warehouse.applyChanges({ jobId: "b", offset: { b }, tables: [{ target, changes }] });
      } else {
        const load = await sink.begin(`bench-${b}`, target);
        await load.write(changes);
        await load.precommit();
        await sink.commit(`bench-${b}`);
      }
    }
    results[mode] = (batches * 5_000) / ((performance.now() - started) / 1000);
    await warehouse.close();
  }
  return [
    { label: "apply without two-phase commit (direct)", value: results.direct!, unit: "changes/s", note: "40 × 5,000 updates, 1M-row table" },
    { label: "apply with two-phase commit", value: results["two-phase"]!, unit: "changes/s", note: "same batches: stage, precommit, commit" },
    { label: "two-phase / direct", value: results["two-phase"]! / results.direct!, unit: "ratio" },
  ];
}

