// `npm run tide -- <command>`: Tide from the terminal. Every command takes
// --format table|json (sql also csv).
import { readFileSync } from "node:fs";
import { parsePipelineYaml, pipelineToYaml, SCHEMA_CHANGE_KINDS } from "@tide/contracts";
import { CliError, connect, describeError, type TideClient } from "./client";
import { fields, render, type OutputFormat } from "./output";

const USAGE = `Usage: npm run tide -- <command> [--format table|json|csv]

  pipeline apply FILE.yaml     create or update the job named in the file and start it
  pipeline export NAME         print a job's pipeline YAML (without the password)
  jobs list                    all jobs and their state
  jobs show NAME               one job: state, last error, tables
  jobs pause|resume|stop NAME
  jobs resnapshot NAME         copy every table again (the remedy when the binlog was purged)
  jobs verify NAME [--table db.table]   compare source and warehouse; waits for the result
  schema-changes list [--job NAME] [--table db.table] [--kind KIND] [--outcome applied|ignored|failed]
                               the schema-change history (KIND: add_column, drop_column, ..., unknown)
  tables                       warehouse tables and row counts
  sql "SELECT ..."             run a query on the warehouse (--max-rows N)

Environment: TIDE_URL (default http://localhost:3000), TIDE_USER and TIDE_PASSWORD or TIDE_TOKEN.
\${VAR} in a pipeline file is replaced from the environment (e.g. password: \${MYSQL_PASSWORD}).`;

interface Args {
  positional: string[];
  format: OutputFormat;
  maxRows: number;
  table: string | undefined;
  job: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  let format: OutputFormat = "table";
  let maxRows = 1000;
  let table: string | undefined;
  let job: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (v === undefined) throw new CliError(`${arg} needs a value`);
      return v;
    };
    if (arg.startsWith("--format")) {
      const f = value();
      if (f !== "table" && f !== "json" && f !== "csv") throw new CliError(`--format must be table, json or csv, not "${f}"`);
      format = f;
    } else if (arg.startsWith("--job")) {
      job = value();
    } else if (arg.startsWith("--table")) {
      table = value();
    } else if (arg.startsWith("--max-rows")) {
      maxRows = Number(value());
    } else if (arg === "-h" || arg === "--help") {
      positional.unshift("help");
    } else {
      positional.push(arg);
    }
  }
  return { positional, format, maxRows, table, job };
}

async function jobId(client: TideClient, name: string | undefined): Promise<number> {
  if (!name) throw new CliError("Name the job, e.g. `jobs show orders-sync`");
  return (await client.jobs.byName.query({ name })).id;
}

async function run(argv: string[]): Promise<string> {
  const { positional, format, maxRows, table: tableArg, job: jobArg } = parseArgs(argv);
  const [group, action, target] = positional;
  if (!group || group === "help") return USAGE;
  if (format === "csv" && group !== "sql") throw new CliError("--format csv is for `sql`; use table or json");
  const client = await connect();

  if (group === "pipeline" && action === "apply") {
    if (!target) throw new CliError("Give the pipeline file: `pipeline apply pipeline.yaml`");
    const spec = parsePipelineYaml(readFileSync(target, "utf8"), process.env);
    // Substitution happened here, so the server gets the resolved file; the password travels separately.
    const { password, ...source } = spec.source;
    const result = await client.jobs.applyPipeline.mutate({ yaml: pipelineToYaml({ ...spec, source }), password });
    return render(fields({ job: result.name, id: result.id, action: result.created ? "created" : "updated", state: "starting" }), format, result);
  }
  if (group === "pipeline" && action === "export") {
    const job = await client.jobs.get.query({ id: await jobId(client, target) });
    return format === "json" ? JSON.stringify(job.spec, null, 2) : job.yaml.trimEnd();
  }
  if (group === "jobs" && action === "list") {
    const jobs = await client.jobs.list.query();
    return render(
      {
        columns: ["name", "state", "desired", "tables", "rows copied", "last error"],
        rows: jobs.map((j) => [j.name, j.actualState, j.desiredState, j.tableCount, j.rowsCopied, j.lastError ?? ""]),
      },
      format,
      jobs,
    );
  }
  if (group === "jobs" && action === "show") {
    const job = await client.jobs.get.query({ id: await jobId(client, target) });
    if (format === "json") return JSON.stringify(job, null, 2);
    const head = render(fields({ name: job.name, state: job.actualState, desired: job.desiredState, "last error": job.lastError ?? "" }), "table");
    const tables = render(
      {
        columns: ["source table", "warehouse table", "model", "phase", "rows copied"],
        rows: job.tables.map((t) => [`${t.sourceDatabase}.${t.sourceTable}`, t.sinkTable, t.model, t.phase, t.rowsCopied]),
      },
      "table",
    );
    return `${head}\n\n${tables}`;
  }
  if (group === "jobs" && (action === "pause" || action === "resume" || action === "stop")) {
    const id = await jobId(client, target);
    await client.jobs[action].mutate({ id });
    const job = await client.jobs.get.query({ id });
    return render(fields({ job: job.name, desired: job.desiredState }), format, { name: job.name, desiredState: job.desiredState });
  }
  if (group === "jobs" && action === "resnapshot") {
    const id = await jobId(client, target);
    await client.jobs.resnapshot.mutate({ id });
    return render(fields({ job: target, action: "re-snapshot requested" }), format, { ok: true });
  }
  if (group === "jobs" && action === "verify") {
    const id = await jobId(client, target);
    const { verificationIds } = await client.jobs.verify.mutate({ id, table: tableArg });
    const wanted = new Set(verificationIds);
    for (;;) {
      const job = await client.jobs.get.query({ id });
      const results = job.tables.filter((t) => t.verification && wanted.has(t.verification.id));
      const running = results.filter((t) => !["equal", "different", "failed"].includes(t.verification!.status));
      if (results.length === wanted.size && running.length === 0) {
        const rows = results.map((t) => [
          `${t.sourceDatabase}.${t.sourceTable}`,
          t.verification!.status,
          t.verification!.sourceRows,
          t.verification!.warehouseRows,
          t.verification!.message ?? "",
        ]);
        const out = render({ columns: ["table", "result", "source rows", "warehouse rows", "details"], rows }, format, results.map((t) => t.verification));
        if (results.some((t) => t.verification!.status !== "equal")) {
          process.exitCode = 3;
        }
        return out;
      }
      if (format === "table") {
        const done = results.reduce((n, t) => n + t.verification!.chunksDone, 0);
        const total = results.reduce((n, t) => n + t.verification!.chunksTotal, 0);
        process.stderr.write(`\rverifying: ${done}/${total || "?"} key ranges`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (group === "schema-changes" && action === "list") {
    const { kind, outcome } = schemaChangeFilters(positional.slice(2));
    const id = jobArg ? await jobId(client, jobArg) : undefined;
    const changes = await client.jobs.schemaChanges.query({
      ...(id ? { id } : {}),
      ...(tableArg ? { table: tableArg } : {}),
      ...(kind ? { kind } : {}),
      ...(outcome ? { outcome } : {}),
    });
    return render(
      {
        columns: ["time", "job", "table", "change", "outcome", "ms", "details", "statement"],
        rows: changes.map((c) => [c.sourceTime.replace("T", " ").slice(0, 19), c.jobName, c.table, c.kind, c.outcome, c.durationMs.toFixed(1), c.detail ?? "", c.statement.replace(/\s+/g, " ")]),
      },
      format,
      changes,
    );
  }
  if (group === "tables") {
    const tables = await client.warehouse.tables.query();
    return render({ columns: ["table", "rows", "columns"], rows: tables.map((t) => [`${t.schema}.${t.table}`, t.rowCount, t.columns.length]) }, format, tables);
  }
  if (group === "sql") {
    const sql = positional.slice(1).join(" ");
    if (!sql) throw new CliError('Give the query: sql "SELECT count(*) FROM ods.orders"');
    const result = await client.warehouse.query.mutate({ sql, maxRows });
    const table = render({ columns: result.columns.map((c) => c.name), rows: result.rows }, format, result);
    if (format !== "table") return table;
    return `${table}\n(${result.rowCount} row${result.rowCount === 1 ? "" : "s"}${result.truncated ? `, first ${result.rows.length} shown` : ""}, ${result.elapsedMs} ms)`;
  }
  throw new CliError(`Unknown command "${positional.join(" ")}".\n\n${USAGE}`);
}

const SCHEMA_CHANGE_OUTCOMES = ["applied", "ignored", "failed"] as const;
/** The history's kinds: the parsed changes, `ignored` (no shape change) and `unknown` (not understood). */
const HISTORY_KINDS: readonly string[] = [...SCHEMA_CHANGE_KINDS, "ignored", "unknown"];

/** `--kind K` and `--outcome O` of `schema-changes list` (the shared parser leaves them among the positionals). */
function schemaChangeFilters(rest: string[]): { kind?: string; outcome?: (typeof SCHEMA_CHANGE_OUTCOMES)[number] } {
  const out: { kind?: string; outcome?: (typeof SCHEMA_CHANGE_OUTCOMES)[number] } = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const flag = arg.split("=")[0];
    if (flag !== "--kind" && flag !== "--outcome") throw new CliError(`schema-changes list does not take "${arg}"\n\n${USAGE}`);
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : rest[++i];
    if (!value) throw new CliError(`${flag} needs a value`);
    if (flag === "--kind") {
      if (!HISTORY_KINDS.includes(value)) throw new CliError(`--kind must be one of ${HISTORY_KINDS.join(", ")}, not "${value}"`);
      out.kind = value;
    } else {
      const outcome = SCHEMA_CHANGE_OUTCOMES.find((o) => o === value);
      if (!outcome) throw new CliError(`--outcome must be applied, ignored or failed, not "${value}"`);
      out.outcome = outcome;
    }
  }
  return out;
}

run(process.argv.slice(2)).then(
  (out) => console.log(out),
  (error: unknown) => {
    console.error(`tide: ${describeError(error)}`);
    process.exit(1);
  },
);
