// `npm run bench -- <name>`: runs a named benchmark against real components and
// writes its figures to bench/results/<name>.json and the table in bench/RESULTS.md.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freshnessBenchmark } from "./freshness.bench";
import { schemaBenchmark } from "./schema.bench";
import { syncBenchmark } from "./sync.bench";

export interface BenchResult {
  name: string;
  ranAt: string;
  machine: string;
  figures: { label: string; value: number; unit: string; note?: string }[];
}

const BENCHMARKS: Record<string, () => Promise<BenchResult>> = { sync: syncBenchmark, freshness: freshnessBenchmark, schema: schemaBenchmark };
const RESULTS = join(import.meta.dirname, "results");

const name = process.argv[2];
const run = name ? BENCHMARKS[name] : undefined;
if (!run) {
  console.error(`Usage: npm run bench -- <${Object.keys(BENCHMARKS).join("|")}>`);
  process.exit(2);
}
const result = await run();
writeFileSync(join(RESULTS, `${result.name}.json`), `${JSON.stringify(result, null, 2)}\n`);

// RESULTS.md: every benchmark's latest figures.
const sections = readdirSync(RESULTS)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(RESULTS, f), "utf8")) as BenchResult)
  .map((r) => [
    `## ${r.name}`,
    `Ran ${r.ranAt} on ${r.machine}. Command: \`npm run bench -- ${r.name}\`.`,
    "",
    "| figure | value | unit | note |",
    "|---|---:|---|---|",
    ...r.figures.map((f) => `| ${f.label} | ${f.value === null || Number.isNaN(f.value) ? "n/a" : f.value.toLocaleString("en-US", { maximumFractionDigits: 2 })} | ${f.unit} | ${f.note ?? ""} |`),
  ].join("\n"));
writeFileSync(join(import.meta.dirname, "RESULTS.md"), `# Benchmark results\n\nFigures from the last run of each benchmark (raw JSON in bench/results/).\n\n${sections.join("\n\n")}\n`);
console.table(result.figures);
