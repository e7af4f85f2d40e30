// The embedded warehouse: one DuckDB file, owned by the worker process. Writes
// go through one connection, one at a time; queries get their own connections
// and read committed snapshots without blocking the writer.
//
// Applying changes to keyed tables is merge-on-write: delete the touched keys,
// then append their new versions, in one transaction (re-inserting a deleted
// primary key in the same transaction works in DuckDB 1.5.6; the tests cover it).
// Measured: ~45-130 ms per 2-5k-key batch on 1-10M rows, against ~1 s for MERGE
// or INSERT OR REPLACE. The delete uses a literal IN list, which DuckDB pushes
// into the scan as a filter; `index_scan_max_count` is raised so an index scan
// stays possible, though EXPLAIN in 1.5.6 shows a filtered sequential scan (mark
// join) either way, at the same speed. Composite keys use `(a, b) IN ((..), ..)`:
// ~230 ms per 5k keys on 5M rows (an OR-of-ANDs list is far slower: minutes).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DuckDBInstance, JsonDuckDBValueConverter, type DuckDBConnection } from "@duckdb/node-api";
import { isTideError, QueryFailedError, type QueryResult, type Row, type RowChange, type SinkTableSpec, type WarehouseTableInfo } from "@tide/contracts";
import { assertReadOnly, cleanMessage, inReadOnlyTransaction } from "./read-only-query";
import { qualified, quoteIdent, quoteString } from "./sql";
import { planColumn, type ColumnPlan } from "./type-mapping";
import { appendValue, keyFunction, keyLiteral, readExpression, readValue } from "./value-codec";
import { createLoadTables, EmbeddedSink } from "./embedded-sink";
import type { ColumnChange, ColumnChangeResult } from "./schema-change";
import { classifyTypeChange } from "./type-change";

export interface TableChangeBatch {
  target: SinkTableSpec;
  changes: RowChange[];
}

const DEFAULT_QUERY_TIMEOUT_MS = 60_000;
const INTERNAL_SCHEMAS = new Set(["_tide", "_tide_stage", "information_schema", "pg_catalog"]);

export class Warehouse {
  private writeQueue: Promise<unknown> = Promise.resolve();
  private readonly plans = new Map<string, ColumnPlan[]>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
  ) {}

  static async open(path: string, options: { memoryLimit?: string } = {}): Promise<Warehouse> {
    mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path, {
      // DuckDB takes 80% of RAM by default; the worker shares the machine. Big folds spill to disk.
      // (Order matters: temp_directory cannot be set once external access is off.)
      temp_directory: `${path}.tmp`,
      memory_limit: options.memoryLimit ?? "400MB",
      // No file or network access from SQL: users' queries must not read the server's files.
      enable_external_access: "false",
    });
    const writer = await instance.connect();
    await writer.run("SET index_scan_max_count = 100000");
    await writer.run("CREATE SCHEMA IF NOT EXISTS _tide");
    await writer.run("CREATE TABLE IF NOT EXISTS _tide.job_offsets (job_id VARCHAR PRIMARY KEY, offset_json VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)");
    await writer.run("CREATE TABLE IF NOT EXISTS _tide.tables (schema_name VARCHAR, table_name VARCHAR, spec_json VARCHAR NOT NULL, PRIMARY KEY (schema_name, table_name))");
    await writer.run(
      "CREATE TABLE IF NOT EXISTS _tide.snapshot_ranges (plan_id VARCHAR NOT NULL, range_index INTEGER NOT NULL, read_at_json VARCHAR NOT NULL, rows_loaded BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL)",
    );
    await createLoadTables(writer);
    return new Warehouse(instance, writer);
  }

  /** The warehouse as a two-phase sink: what sync jobs load through (see embedded-sink.ts). */
  twoPhaseSink(): EmbeddedSink {
    return new EmbeddedSink({
      exclusive: (work) => this.exclusive(() => work(this.writer)),
      inTransaction: (work) => this.inTransaction(work),
      tableSpec: (schema, table) => this.tableSpec(schema, table),
    });
  }

  async ensureTable(spec: SinkTableSpec): Promise<void> {
    await this.exclusive(async () => {
      const columns = spec.columns.map((c) => `${quoteIdent(c.name)} ${planColumn(c.mysqlType).duckType}`);
      if (spec.model === "unique" && spec.keyColumns.length > 0) columns.push(`PRIMARY KEY (${spec.keyColumns.map(quoteIdent).join(", ")})`);
      await this.writer.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(spec.schema)}`);
      await this.writer.run(`CREATE TABLE IF NOT EXISTS ${qualified(spec.schema, spec.table)} (${columns.join(", ")})`);
      await this.writer.run("DELETE FROM _tide.tables WHERE schema_name = $1 AND table_name = $2", [spec.schema, spec.table]);
      await this.writer.run("INSERT INTO _tide.tables VALUES ($1, $2, $3)", [spec.schema, spec.table, JSON.stringify(spec)]);
      this.plans.set(`${spec.schema}.${spec.table}`, spec.columns.map((c) => planColumn(c.mysqlType)));
    });
  }

  /**
   * Applies a source column change to a warehouse table and its recorded spec.
   * Idempotent: a change the table already has (replayed after a crash) does nothing.
   */
  async alterTable(
    schema: string,
    table: string,
    change: ColumnChange | { kind: "rename_table"; toSchema: string; toTable: string },
  ): Promise<ColumnChangeResult & { spec: SinkTableSpec }> {
    return this.exclusive(async () => {
      const before = await this.tableSpec(schema, table);
      const spec: SinkTableSpec = { ...before, columns: before.columns.map((c) => ({ ...c })), keyColumns: [...before.keyColumns] };
      const name = qualified(schema, table);
      const has = (column: string) => spec.columns.some((c) => c.name === column);
      const started = performance.now();
      let applied = true;
      let detail = "";
      const statements: string[] = [];
      /** For a type change DuckDB may refuse: what to do instead (see modify_column). */
      let fallback: { statements: string[]; columns: SinkTableSpec["columns"]; detail: string } | undefined;
      switch (change.kind) {
        case "add_column": {
          if (has(change.column.name)) {
            applied = false;
            detail = `column ${change.column.name} is already there`;
            break;
          }
          const plan = planColumn(change.column.mysqlType);
          // Existing rows get the source's default, as they do in the source.
          const literal = change.defaultValue === undefined ? "" : ` DEFAULT ${defaultLiteral(change.defaultValue)}`;
          statements.push(`ALTER TABLE ${name} ADD COLUMN ${quoteIdent(change.column.name)} ${plan.duckType}${literal}`);
          spec.columns.push(change.column);
          detail = `added ${change.column.name} ${plan.duckType}`;
          break;
        }
        case "drop_column": {
          if (!has(change.column)) {
            applied = false;
            detail = `column ${change.column} is already gone`;
            break;
          }
          if (spec.keyColumns.includes(change.column)) throw new Error(`Cannot drop ${change.column}: it is part of the table's key`);
          statements.push(`ALTER TABLE ${name} DROP COLUMN ${quoteIdent(change.column)}`);
          spec.columns = spec.columns.filter((c) => c.name !== change.column);
          detail = `dropped ${change.column}`;
          break;
        }
        case "rename_column": {
          if (!has(change.from) && has(change.to)) {
            applied = false;
            detail = `column ${change.from} is already named ${change.to}`;
            break;
          }
          statements.push(`ALTER TABLE ${name} RENAME COLUMN ${quoteIdent(change.from)} TO ${quoteIdent(change.to)}`);
          for (const c of spec.columns) if (c.name === change.from) c.name = change.to;
          spec.keyColumns = spec.keyColumns.map((k) => (k === change.from ? change.to : k));
          detail = `renamed ${change.from} to ${change.to}`;
          break;
        }
        case "modify_column": {
          let current = change.column;
          if (change.newName && change.newName !== change.column) {
            if (has(change.column)) {
              statements.push(`ALTER TABLE ${name} RENAME COLUMN ${quoteIdent(change.column)} TO ${quoteIdent(change.newName)}`);
              spec.keyColumns = spec.keyColumns.map((k) => (k === change.column ? change.newName! : k));
            }
            current = change.newName;
          }
          const column = spec.columns.find((c) => c.name === change.column || c.name === current);
          if (!column) throw new Error(`The warehouse table has no column ${change.column}`);
          const from = planColumn(column.mysqlType).duckType;
          const to = planColumn(change.definition.mysqlType).duckType;
          const kind = classifyTypeChange(column.mysqlType, change.definition.mysqlType);
          if (from !== to) statements.push(`ALTER TABLE ${name} ALTER COLUMN ${quoteIdent(current)} SET DATA TYPE ${to}`);
          detail = `${kind}: ${current} ${column.mysqlType} → ${change.definition.mysqlType}${from === to ? ` (same warehouse type ${to})` : ` (${from} → ${to})`}`;
          if (from !== to && change.onFailure === "new_column" && !spec.keyColumns.includes(current)) {
            // If DuckDB cannot convert the values already there, the old column keeps them under
            // another name and a new column of the new type takes the name (metadata only).
            const kept = `${current}__${from.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/_+$/, "")}`;
            const keptColumn = { ...column, name: kept, nullable: true };
            const added = { ...change.definition, name: current, nullable: true };
            fallback = {
              statements: [
                ...statements.slice(0, -1), // a rename in the same CHANGE COLUMN
                `ALTER TABLE ${name} RENAME COLUMN ${quoteIdent(current)} TO ${quoteIdent(kept)}`,
                `ALTER TABLE ${name} ADD COLUMN ${quoteIdent(current)} ${to}`,
              ],
              // The appender fills columns by position: the added column is the table's last.
              columns: [...spec.columns.map((c) => (c === column ? keptColumn : { ...c })), added],
              detail: `${kind}: ${current} ${column.mysqlType} → ${change.definition.mysqlType}; the values already there cannot become ${to}, so they stay in ${kept} and ${current} is a new ${to} column from here on`,
            };
          }
          column.name = current;
          column.mysqlType = change.definition.mysqlType;
          column.nullable = change.definition.nullable;
          break;
        }
        case "truncate_table":
          statements.push(`DELETE FROM ${name}`);
          detail = "all rows removed";
          break;
        case "rename_table": {
          const to = qualified(change.toSchema, change.toTable);
          if (change.toSchema === schema) {
            statements.push(`ALTER TABLE ${name} RENAME TO ${quoteIdent(change.toTable)}`); // metadata only
          } else {
            // DuckDB renames within a schema only: into another one the rows are copied (the key kept).
            const columns = spec.columns.map((c) => `${quoteIdent(c.name)} ${planColumn(c.mysqlType).duckType}`);
            if (spec.model === "unique" && spec.keyColumns.length > 0) columns.push(`PRIMARY KEY (${spec.keyColumns.map(quoteIdent).join(", ")})`);
            const list = spec.columns.map((c) => quoteIdent(c.name)).join(", ");
            statements.push(
              `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(change.toSchema)}`,
              `CREATE TABLE ${to} (${columns.join(", ")})`,
              `INSERT INTO ${to} (${list}) SELECT ${list} FROM ${name}`,
              `DROP TABLE ${name}`,
            );
          }
          spec.schema = change.toSchema;
          spec.table = change.toTable;
          this.plans.delete(`${schema}.${table}`);
          detail = `renamed ${schema}.${table} to ${change.toSchema}.${change.toTable}`;
          break;
        }
      }
      const run = (sqls: string[]) =>
        this.inTransaction(async () => {
          for (const sql of sqls) await this.writer.run(sql);
          // The staging table is recreated with the new columns on the next load.
          await this.writer.run(`DROP TABLE IF EXISTS ${qualified("_tide_stage", `${schema}.${table}`)}`);
          await this.writer.run("DELETE FROM _tide.tables WHERE schema_name = $1 AND table_name = $2", [schema, table]);
          // A renamed table is recorded under its new name (spec.schema/table).
          await this.writer.run("DELETE FROM _tide.tables WHERE schema_name = $1 AND table_name = $2", [spec.schema, spec.table]);
          await this.writer.run("INSERT INTO _tide.tables VALUES ($1, $2, $3)", [spec.schema, spec.table, JSON.stringify(spec)]);
        });
      if (applied) {
        try {
          await run(statements);
        } catch (error) {
          if (!fallback) throw error;
          spec.columns = fallback.columns;
          detail = `${fallback.detail} (${(error as Error).message.split("\n")[0]})`;
          await run(fallback.statements);
        }
      }
      return { applied, detail, durationMs: performance.now() - started, columnsBefore: before.columns, columnsAfter: spec.columns, spec };
    });
  }

  async dropTable(schema: string, table: string): Promise<void> {
    await this.exclusive(async () => {
      await this.writer.run(`DROP TABLE IF EXISTS ${qualified(schema, table)}`);
      await this.writer.run("DELETE FROM _tide.tables WHERE schema_name = $1 AND table_name = $2", [schema, table]);
      this.plans.delete(`${schema}.${table}`);
    });
  }

  /** Deletes every row of a table (a snapshot starting over), keeping its shape. */
  async emptyTable(target: SinkTableSpec): Promise<void> {
    await this.exclusive(() => this.writer.run(`DELETE FROM ${qualified(target.schema, target.table)}`));
  }

  /** Bulk append (the snapshot path): rows go in as they are, in one transaction. */
  async appendRows(args: { jobId: string; target: SinkTableSpec; rows: Row[] }): Promise<void> {
    if (args.rows.length === 0) return;
    await this.exclusive(async () => {
      await this.inTransaction(() => this.append(args.target, args.rows));
    });
  }

  /**
   * Loads one range of a table's snapshot with what `fill` appends, in one transaction
   * that also records the load (`record`, see loadedRanges): after a crash a range is
   * either wholly in, and known to be, or not in at all. A `concurrent` load runs on a
   * connection of its own, beside other loads and the writer's commits (DuckDB's
   * optimistic concurrency: they touch different keys), instead of queueing for the writer.
   */
  async loadRange(args: {
    target: SinkTableSpec;
    concurrent?: boolean;
    record?: { planId: string; index: number; readAt: unknown };
    /** Deletes an integer key range, or every row, first. */
    clear?: { column: string; from?: unknown; to?: unknown } | "all rows";
    fill: (append: (rows: Row[]) => Promise<void>) => Promise<void>;
  }): Promise<number> {
    const { target, record } = args;
    const load = async (conn: DuckDBConnection) => {
      await conn.run("BEGIN TRANSACTION");
      try {
        const { clear } = args;
        if (clear) {
          const conditions: string[] = [];
          const bound = (value: unknown) => BigInt(String(value)); // integers only: pasted as validated literals
          if (clear !== "all rows" && clear.from !== undefined) conditions.push(`${quoteIdent(clear.column)} >= ${bound(clear.from)}`);
          if (clear !== "all rows" && clear.to !== undefined) conditions.push(`${quoteIdent(clear.column)} < ${bound(clear.to)}`);
          await conn.run(`DELETE FROM ${qualified(target.schema, target.table)}${conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : ""}`);
        }
        let appended = 0;
        await args.fill(async (rows) => {
          if (rows.length === 0) return;
          await this.append(target, rows, conn);
          appended += rows.length;
        });
        if (record) {
          await conn.run("INSERT INTO _tide.snapshot_ranges VALUES ($1, $2, $3, $4, now()::TIMESTAMP)", [record.planId, record.index, JSON.stringify(record.readAt), appended]);
        }
        await conn.run("COMMIT");
        return appended;
      } catch (error) {
        await conn.run("ROLLBACK").catch(() => undefined);
        throw error;
      }
    };
    if (!args.concurrent) return this.exclusive(() => load(this.writer));
    const conn = await this.instance.connect();
    try {
      return await load(conn);
    } finally {
      conn.closeSync();
    }
  }

  /** The ranges of a snapshot plan loaded so far, by their index in the plan: where each was read, and its rows. */
  async loadedRanges(planId: string): Promise<Map<number, { readAt: unknown; rows: number }>> {
    const rows = await this.writerRead("SELECT range_index, read_at_json, rows_loaded FROM _tide.snapshot_ranges WHERE plan_id = $1", [planId]);
    return new Map(rows.map(([index, readAt, loaded]) => [Number(index), { readAt: JSON.parse(String(readAt)) as unknown, rows: Number(loaded) }]));
  }

  /** Drops the records of plans no longer in force (their checkpoint holds every range). */
  async forgetLoadedRanges(planIds: string[]): Promise<void> {
    if (planIds.length === 0) return;
    await this.exclusive(() => this.writer.run(`DELETE FROM _tide.snapshot_ranges WHERE plan_id IN (${planIds.map((_, i) => `$${i + 1}`).join(", ")})`, planIds));
  }

  /**
   * Applies a batch of source transactions and records the job's offset in the
   * same DuckDB transaction: after a crash the offset always matches the data.
   */
  async applyChanges(args: { jobId: string; offset: unknown; tables: TableChangeBatch[] }): Promise<void> {
    await this.exclusive(async () => {
      await this.inTransaction(async () => {
        for (const batch of args.tables) await this.applyTable(batch);
        await this.writer.run("DELETE FROM _tide.job_offsets WHERE job_id = $1", [args.jobId]);
        await this.writer.run("INSERT INTO _tide.job_offsets VALUES ($1, $2, now()::TIMESTAMP)", [args.jobId, JSON.stringify(args.offset)]);
      });
    });
  }

  async readOffset(jobId: string): Promise<unknown> {
    const reader = await this.writerRead("SELECT offset_json FROM _tide.job_offsets WHERE job_id = $1", [jobId]);
    const value = reader[0]?.[0];
    return typeof value === "string" ? (JSON.parse(value) as unknown) : undefined;
  }

  async clearOffset(jobId: string): Promise<void> {
    await this.exclusive(() => this.writer.run("DELETE FROM _tide.job_offsets WHERE job_id = $1", [jobId]));
  }

  /** A user's query: read-only, JSON-safe values, at most maxRows rows returned, cancellable. */
  async query(sql: string, options: { maxRows?: number; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<QueryResult> {
    const maxRows = options.maxRows ?? 1000;
    const conn = await this.instance.connect();
    const cancel = () => conn.interrupt();
    const timer = setTimeout(cancel, options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
    options.signal?.addEventListener("abort", cancel, { once: true });
    const started = performance.now();
    try {
      if (options.signal?.aborted) throw new QueryFailedError("The query was cancelled");
      await assertReadOnly(conn, sql);
      const { columns, rows, rowCount } = await inReadOnlyTransaction(conn, async () => {
        const result = await conn.stream(sql);
        const types = result.columnTypes();
        const columns = result.columnNames().map((name, i) => ({ name, type: types[i]?.toString() ?? "" }));
        const rows: unknown[][] = [];
        let rowCount = 0;
        // Every chunk is fetched to count the rows; only the first maxRows are converted.
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          rowCount += chunk.rowCount;
          for (let i = 0; i < chunk.rowCount && rows.length < maxRows; i++) {
            rows.push(chunk.convertRowValues(i, JsonDuckDBValueConverter));
          }
        }
        return { columns, rows, rowCount };
      });
      return { columns, rows, rowCount, truncated: rowCount > rows.length, elapsedMs: Math.round(performance.now() - started) };
    } catch (error) {
      if (options.signal?.aborted) throw new QueryFailedError("The query was cancelled");
      if (isTideError(error)) throw error;
      const message = cleanMessage(error);
      throw new QueryFailedError(/interrupt/i.test(message) ? "The query was stopped: it ran longer than the time limit" : message);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", cancel);
      conn.closeSync();
    }
  }

  async listTables(): Promise<WarehouseTableInfo[]> {
    const conn = await this.instance.connect();
    try {
      const reader = await conn.runAndReadAll(
        `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
         WHERE t.table_type = 'BASE TABLE' AND t.table_catalog = current_database()
         ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
      );
      const tables = new Map<string, WarehouseTableInfo>();
      for (const [schema, table, column, type] of reader.getRowsJson() as string[][]) {
        if (INTERNAL_SCHEMAS.has(schema!)) continue;
        const key = `${schema}.${table}`;
        let info = tables.get(key);
        if (!info) tables.set(key, (info = { schema: schema!, table: table!, rowCount: 0, columns: [] }));
        info.columns.push({ name: column!, type: type! });
      }
      for (const info of tables.values()) {
        const count = await conn.runAndReadAll(`SELECT count(*) FROM ${qualified(info.schema, info.table)}`);
        info.rowCount = Number(count.getRowsJson()[0]?.[0] ?? 0);
      }
      return [...tables.values()];
    } finally {
      conn.closeSync();
    }
  }

  /** Every row in the encoding the source reader produces (for comparisons and verification). */
  async readAll(schema: string, table: string): Promise<Row[]> {
    return this.readRows(schema, table);
  }

  /** Rows whose integer key column lies in [from, to), in the source reader's encoding. */
  async readKeyRange(schema: string, table: string, keyColumn: string, from: bigint, to: bigint): Promise<Row[]> {
    return this.readRows(schema, table, `${quoteIdent(keyColumn)} >= ${from} AND ${quoteIdent(keyColumn)} < ${to}`);
  }

  /** The spec a table was created with and evolved to, or undefined when the table does not exist. */
  async recordedSpec(schema: string, table: string): Promise<SinkTableSpec | undefined> {
    return this.tableSpec(schema, table).catch(() => undefined);
  }

  /** Exact row count of a table. */
  async countRows(schema: string, table: string): Promise<number> {
    const rows = await this.writerRead(`SELECT count(*) FROM ${qualified(schema, table)}`, []);
    return Number(rows[0]?.[0] ?? 0);
  }

  /** `where` is built by this class from validated values only. */
  private async readRows(schema: string, table: string, where?: string): Promise<Row[]> {
    const spec = await this.tableSpec(schema, table);
    const conn = await this.instance.connect();
    try {
      const select = spec.columns.map((c) => `${readExpression(quoteIdent(c.name), planColumn(c.mysqlType))} AS ${quoteIdent(c.name)}`);
      const reader = await conn.runAndReadAll(`SELECT ${select.join(", ")} FROM ${qualified(schema, table)}${where ? ` WHERE ${where}` : ""}`);
      const plans = spec.columns.map((c) => [c.name, planColumn(c.mysqlType)] as const);
      return reader.getRowObjectsJS().map((raw) => {
        const row: Row = {};
        for (const [name, plan] of plans) row[name] = readValue(raw[name], plan);
        return row;
      });
    } finally {
      conn.closeSync();
    }
  }

  async close(): Promise<void> {
    await this.writeQueue.catch(() => undefined);
    this.writer.closeSync();
    this.instance.closeSync();
  }

  private async applyTable({ target, changes }: TableChangeBatch): Promise<void> {
    if (changes.length === 0) return;
    if (target.model === "duplicate" || target.keyColumns.length === 0) {
      // Append-only: every new row version is kept; deletes are not applied.
      const rows = changes.flatMap((c) => (c.op === "delete" ? [] : [c.after]));
      if (rows.length > 0) await this.append(target, rows);
      return;
    }
    const keyOf = keyFunction(target.keyColumns);
    // Last write per key wins; a key that ends deleted has no surviving version.
    const latest = new Map<string, Row | null>();
    const touched = new Map<string, Row>();
    for (const change of changes) {
      if (change.op === "insert") {
        const k = keyOf(change.after);
        latest.set(k, change.after);
        touched.set(k, change.after);
      } else if (change.op === "delete") {
        const k = keyOf(change.before);
        latest.set(k, null);
        touched.set(k, change.before);
      } else {
        const before = keyOf(change.before);
        const after = keyOf(change.after);
        if (before !== after) {
          latest.set(before, null);
          touched.set(before, change.before);
        }
        latest.set(after, change.after);
        touched.set(after, change.after);
      }
    }
    await this.deleteKeys(target, [...touched.values()]);
    const survivors = [...latest.values()].filter((r): r is Row => r !== null);
    if (survivors.length > 0) await this.append(target, survivors);
  }

  private async deleteKeys(target: SinkTableSpec, rows: Row[]): Promise<void> {
    const plans = new Map(target.columns.map((c) => [c.name, planColumn(c.mysqlType)]));
    const literal = (row: Row, column: string) => keyLiteral(row[column], plans.get(column));
    const table = qualified(target.schema, target.table);
    const CHUNK = 5_000;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      if (target.keyColumns.length === 1) {
        const column = target.keyColumns[0]!;
        await this.writer.run(`DELETE FROM ${table} WHERE ${quoteIdent(column)} IN (${part.map((r) => literal(r, column)).join(", ")})`);
      } else {
        const columns = target.keyColumns.map(quoteIdent).join(", ");
        const tuples = part.map((r) => `(${target.keyColumns.map((c) => literal(r, c)).join(", ")})`).join(", ");
        await this.writer.run(`DELETE FROM ${table} WHERE (${columns}) IN (${tuples})`);
      }
    }
  }

  private async append(target: SinkTableSpec, rows: Row[], conn: DuckDBConnection = this.writer): Promise<void> {
    const plans = target.columns.map((c) => [c.name, planColumn(c.mysqlType)] as const);
    const appender = await conn.createAppender(target.table, target.schema);
    try {
      for (const row of rows) {
        for (const [name, plan] of plans) appendValue(appender, row[name], plan);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  private async tableSpec(schema: string, table: string): Promise<SinkTableSpec> {
    const rows = await this.writerRead("SELECT spec_json FROM _tide.tables WHERE schema_name = $1 AND table_name = $2", [schema, table]);
    const json = rows[0]?.[0];
    if (typeof json !== "string") throw new QueryFailedError(`There is no table ${schema}.${table} in the warehouse`);
    return JSON.parse(json) as SinkTableSpec;
  }

  private async writerRead(sql: string, params: string[]): Promise<unknown[][]> {
    const conn = await this.instance.connect();
    try {
      return (await conn.runAndReadAll(sql, params)).getRowsJson() as unknown[][];
    } finally {
      conn.closeSync();
    }
  }

  private async inTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.writer.run("BEGIN TRANSACTION");
    try {
      const result = await work();
      await this.writer.run("COMMIT");
      return result;
    } catch (error) {
      await this.writer.run("ROLLBACK").catch(() => undefined);
      throw error;
    }
  }

  /** Serialises writes on the one writer connection. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(work, work);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }
}

function defaultLiteral(value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  if (/^null$/i.test(value)) return "NULL";
  return quoteString(value);
}
