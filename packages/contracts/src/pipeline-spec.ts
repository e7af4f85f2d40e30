// The one pipeline spec: the wizard builds it, the API stores it, the CLI reads
// it from YAML. Key names follow Flink CDC 3 pipeline files where they exist, so a
// user's existing file mostly applies as it is.
import { z } from "zod";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InvalidInputError } from "./errors";

const identifier = /^[A-Za-z0-9_$]+$/;

export const SinkTableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, "must look like layer.table, e.g. ods.orders");

export const STARTUP_MODES = ["initial", "latest-offset", "specific-offset", "timestamp", "snapshot"] as const;
export type StartupMode = (typeof STARTUP_MODES)[number];

export const MySqlSourceSpec = z.object({
  type: z.literal("mysql"),
  hostname: z.string().min(1, "hostname is required"),
  port: z.coerce.number().int().min(1).max(65535).default(3306),
  username: z.string().min(1, "username is required"),
  /** Absent in stored and exported specs: the password lives encrypted in the source connection. */
  password: z.string().optional(),
  /** Comma-separated `db.table` regular expressions, as in Flink CDC (`shop.orders,shop.order_.*`). */
  tables: z.string().min(1, "select at least one table"),
  /** Binlog replica server id; Tide assigns a unique one when absent. */
  "server-id": z.coerce.number().int().min(1).max(4294967295).optional(),
  /**
   * Flink CDC's startup modes: `initial` (snapshot, then the binlog), `latest-offset` (binlog
   * only, from now), `specific-offset` (binlog from a file and position, or after a GTID), `timestamp` (binlog
   * from the first transaction at or after a time), `snapshot` (copy once, then finish).
   */
  "scan.startup.mode": z.enum(STARTUP_MODES).default("initial"),
  "scan.startup.specific-offset.file": z.string().regex(/^[\w.-]+\.\d+$/, "a binlog file name such as mysql-bin.000003").optional(),
  "scan.startup.specific-offset.pos": z.coerce.number().int().min(4).optional(),
  /** Instead of file and position: start after the transaction with this MariaDB GTID (`0-1-1234`). */
  "scan.startup.specific-offset.gtid-set": z
    .string()
    .trim()
    .regex(/^\d+-\d+-\d+$/, "one MariaDB GTID such as 0-1-1234 (for MySQL, give the binlog file and position)")
    .optional(),
  "scan.startup.timestamp-millis": z.coerce.number().int().min(0).optional(),
  /** Rows per key range of a chunked snapshot (Flink CDC's option); default TIDE_SNAPSHOT_CHUNK_ROWS, 50,000. */
  "scan.incremental.snapshot.chunk.size": z.coerce.number().int().min(100).max(10_000_000).optional(),
});
export type MySqlSourceSpec = z.infer<typeof MySqlSourceSpec>;

/** The options a startup mode needs, checked together (zod cannot say "required when"). */
function checkStartupOptions(source: MySqlSourceSpec, ctx: z.RefinementCtx): void {
  const mode = source["scan.startup.mode"];
  const need = (key: keyof MySqlSourceSpec, what: string) => {
    if (source[key] === undefined) ctx.addIssue({ code: "custom", path: ["source", key], message: `${what} is needed for scan.startup.mode ${mode}` });
  };
  if (mode === "specific-offset" && source["scan.startup.specific-offset.gtid-set"] === undefined) {
    need("scan.startup.specific-offset.file", "the binlog file (or a GTID, scan.startup.specific-offset.gtid-set)");
    need("scan.startup.specific-offset.pos", "the binlog position (or a GTID, scan.startup.specific-offset.gtid-set)");
  }
  if (mode === "timestamp") need("scan.startup.timestamp-millis", "the start time in milliseconds since 1970");
}

/** Kinds of source schema change (see packages/cdc-mysql/src/ddl-parser.ts). */
export const SCHEMA_CHANGE_KINDS = ["add_column", "drop_column", "rename_column", "modify_column", "rename_table", "truncate_table", "create_table", "drop_table"] as const;

export const SinkSpec = z.object({
  /** `embedded` is the DuckDB warehouse inside the worker; `doris` comes later. */
  type: z.enum(["embedded"]).default("embedded"),
  /** Only these kinds of schema change are applied (Flink CDC's `include.schema.changes`); default all. */
  "include.schema.changes": z.array(z.enum(SCHEMA_CHANGE_KINDS)).optional(),
  /** These kinds are never applied (`exclude.schema.changes`). */
  "exclude.schema.changes": z.array(z.enum(SCHEMA_CHANGE_KINDS)).optional(),
});

/**
 * Flink CDC's `schema.change.behavior`: exception (stop on any change), evolve (apply all,
 * fail if one cannot be applied), try_evolve (apply, tolerate what cannot), lenient (add and
 * rename apply; a dropped column is kept, filled with NULLs; a type the stored values cannot
 * take becomes a new column, the old values kept in a renamed one), ignore (record only).
 */
export const SCHEMA_CHANGE_BEHAVIORS = ["exception", "evolve", "try_evolve", "lenient", "ignore"] as const;
export type SchemaChangeBehavior = (typeof SCHEMA_CHANGE_BEHAVIORS)[number];

export const RouteSpec = z.object({
  "source-table": z.string().min(1),
  "sink-table": SinkTableName,
  description: z.string().optional(),
});
export type RouteSpec = z.infer<typeof RouteSpec>;

/** Per-table options, as Flink CDC's `transform` block: a key for key-less tables, or append-only. */
export const TransformSpec = z.object({
  "source-table": z.string().min(1),
  /** Comma-separated columns used as the unique key when the source table has no primary key. */
  "primary-keys": z.string().optional(),
  /** `unique` (upsert by key, the default when there is a key) or `duplicate` (append-only). */
  "table-model": z.enum(["unique", "duplicate"]).optional(),
});
export type TransformSpec = z.infer<typeof TransformSpec>;

export const PipelineSpec = z
  .object({
  source: MySqlSourceSpec,
  sink: SinkSpec.default({ type: "embedded" }),
  route: z.array(RouteSpec).default([]),
  transform: z.array(TransformSpec).default([]),
  pipeline: z.object({
    name: z
      .string()
      .min(1, "a job needs a name")
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits, '_', '-' and '.' only"),
    parallelism: z.coerce.number().int().min(1).default(1),
    "schema.change.behavior": z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(SCHEMA_CHANGE_BEHAVIORS))
      .default("lenient"),
  }),
})
  .superRefine((spec, ctx) => checkStartupOptions(spec.source, ctx));
export type PipelineSpec = z.infer<typeof PipelineSpec>;
export type PipelineSpecInput = z.input<typeof PipelineSpec>;

/** Parses a Flink-CDC-style YAML file; `${VAR}` in values is replaced from `env`. */
export function parsePipelineYaml(text: string, env: Record<string, string | undefined> = {}): PipelineSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(`The pipeline file is not valid YAML: ${(error as Error).message}`);
  }
  const substituted = substituteEnv(raw, env);
  const result = PipelineSpec.safeParse(substituted);
  if (!result.success) throw InvalidInputError.fromZod(result.error, "The pipeline file");
  return result.data;
}

/** YAML for export; the password is never included. */
export function pipelineToYaml(spec: PipelineSpec): string {
  const { password: _omitted, ...source } = spec.source;
  const doc: Record<string, unknown> = { source, sink: spec.sink };
  if (spec.route.length > 0) doc.route = spec.route;
  if (spec.transform.length > 0) doc.transform = spec.transform;
  doc.pipeline = spec.pipeline;
  return stringifyYaml(doc);
}

function substituteEnv(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => env[name] ?? whole);
  }
  if (Array.isArray(value)) return value.map((item) => substituteEnv(item, env));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env)]));
  }
  return value;
}

/** The `tables` patterns, each anchored (Flink CDC matches the whole `db.table`). */
export function tablePatterns(spec: Pick<MySqlSourceSpec, "tables">): RegExp[] {
  return spec.tables
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => new RegExp(`^(?:${p})$`));
}

export function matchesPattern(patterns: RegExp[], database: string, table: string): boolean {
  const qualified = `${database}.${table}`;
  return patterns.some((p) => p.test(qualified));
}

/** Escapes a `db.table` name for use as an exact pattern in `tables`. */
export function exactTablePattern(database: string, table: string): string {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `${esc(database)}\\.${esc(table)}`;
}

/** Where a source table lands: the first matching route, else `ods.<table>`. */
export function sinkTableFor(spec: PipelineSpec, database: string, table: string): string {
  for (const route of spec.route) {
    if (matchesPattern(tablePatterns({ tables: route["source-table"] }), database, table)) {
      return route["sink-table"];
    }
  }
  return `ods.${table}`;
}

export function transformFor(spec: PipelineSpec, database: string, table: string): TransformSpec | undefined {
  return spec.transform.find((t) => matchesPattern(tablePatterns({ tables: t["source-table"] }), database, table));
}

export function isPlainIdentifier(name: string): boolean {
  return identifier.test(name);
}
