// The embedded warehouse as a two-phase sink (contract: packages/contracts/src/
// two-phase-sink.ts). A load's rows are appended to a staging table per target
// (schema `_tide_stage`), which queries never read; commit folds them into the
// target and marks the label committed in one DuckDB transaction, so a label is
// applied once or not at all, whatever crashes when.
import type { DuckDBConnection } from "@duckdb/node-api";
import { LabelStateError, type LoadState, type RowChange, type SinkLoad, type SinkTableSpec, type TwoPhaseSink } from "@tide/contracts";
import { planColumn } from "./type-mapping";
import { appendValue } from "./value-codec";
import { qualified, quoteIdent } from "./sql";

/** What the sink needs from the warehouse: its single writer connection, one user at a time. */
export interface WriterAccess {
  exclusive<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T>;
  inTransaction<T>(work: () => Promise<T>): Promise<T>;
  tableSpec(schema: string, table: string): Promise<SinkTableSpec>;
}

const OP_UPSERT = 0;
const OP_DELETE = 1;
const META_COLUMNS = ["_tide_label", "_tide_seq", "_tide_op"];

export async function createLoadTables(conn: DuckDBConnection): Promise<void> {
  await conn.run("CREATE SCHEMA IF NOT EXISTS _tide_stage");
  await conn.run(`CREATE TABLE IF NOT EXISTS _tide.loads (
    label VARCHAR PRIMARY KEY, schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL, state VARCHAR NOT NULL,
    rows_staged BIGINT NOT NULL, applied_times INTEGER NOT NULL, created_at TIMESTAMP NOT NULL, finished_at TIMESTAMP)`);
}

function stageTable(target: SinkTableSpec): string {
  return qualified("_tide_stage", `${target.schema}.${target.table}`);
}

export class EmbeddedSink implements TwoPhaseSink {
  constructor(private readonly access: WriterAccess) {}

  async begin(label: string, target: SinkTableSpec): Promise<SinkLoad> {
    await this.access.exclusive(async (conn) => {
      const columns = target.columns.map((c) => `${quoteIdent(c.name)} ${planColumn(c.mysqlType).duckType}`);
      await conn.run(`CREATE TABLE IF NOT EXISTS ${stageTable(target)} (${columns.join(", ")}, _tide_label VARCHAR, _tide_seq BIGINT, _tide_op UTINYINT)`);
      const existing = await state(conn, label);
      if (existing) throw new LabelStateError(label, existing, "begun again");
      await conn.run("INSERT INTO _tide.loads VALUES ($1, $2, $3, 'open', 0, 0, now()::TIMESTAMP, NULL)", [label, target.schema, target.table]);
    });
    return new EmbeddedLoad(this.access, label, target);
  }

  async commit(label: string): Promise<void> {
    await this.access.exclusive(async (conn) => {
      await this.access.inTransaction(async () => {
        const found = await loadRow(conn, label);
        if (found?.state === "committed") return;
        if (found?.state !== "precommitted") throw new LabelStateError(label, found?.state, "committed");
        const target = await this.access.tableSpec(found.schema, found.table);
        const stage = stageTable(target);
        const columns = target.columns.map((c) => quoteIdent(c.name)).join(", ");
        const table = qualified(target.schema, target.table);
        if (target.model === "unique" && target.keyColumns.length > 0) {
          const keys = target.keyColumns.map(quoteIdent);
          await conn.run(
            `DELETE FROM ${table} USING (SELECT DISTINCT ${keys.join(", ")} FROM ${stage} WHERE _tide_label = $1) AS touched
             WHERE ${keys.map((k) => `${table}.${k} = touched.${k}`).join(" AND ")}`,
            [label],
          );
          // Last change per key wins; a key whose last change is a delete stays deleted.
          await conn.run(
            `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM (
               SELECT *, row_number() OVER (PARTITION BY ${keys.join(", ")} ORDER BY _tide_seq DESC) AS _tide_rn
               FROM ${stage} WHERE _tide_label = $1) WHERE _tide_rn = 1 AND _tide_op = ${OP_UPSERT}`,
            [label],
          );
        } else {
          await conn.run(`INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${stage} WHERE _tide_label = $1 AND _tide_op = ${OP_UPSERT} ORDER BY _tide_seq`, [label]);
        }
        await conn.run(`DELETE FROM ${stage} WHERE _tide_label = $1`, [label]);
        await conn.run("UPDATE _tide.loads SET state = 'committed', applied_times = applied_times + 1, finished_at = now()::TIMESTAMP WHERE label = $1", [label]);
      });
    });
  }

  async abort(label: string): Promise<void> {
    await this.access.exclusive(async (conn) => {
      await this.access.inTransaction(async () => {
        const found = await loadRow(conn, label);
        if (!found || found.state === "aborted") return;
        if (found.state === "committed") throw new LabelStateError(label, "committed", "aborted");
        const target = await this.access.tableSpec(found.schema, found.table).catch(() => undefined);
        if (target) await conn.run(`DELETE FROM ${stageTable(target)} WHERE _tide_label = $1`, [label]);
        await conn.run("UPDATE _tide.loads SET state = 'aborted', finished_at = now()::TIMESTAMP WHERE label = $1", [label]);
      });
    });
  }

  /** Open or precommitted loads with this label prefix (open ones were cut off mid-write). */
  async recover(labelPrefix: string): Promise<string[]> {
    return this.access.exclusive(async (conn) => {
      const reader = await conn.runAndReadAll("SELECT label FROM _tide.loads WHERE starts_with(label, $1) AND state IN ('open', 'precommitted') ORDER BY label", [labelPrefix]);
      return reader.getRowsJson().map((r) => String(r[0]));
    });
  }

  async labelState(label: string): Promise<LoadState | undefined> {
    return this.access.exclusive((conn) => state(conn, label));
  }

  /** How often each label of a prefix was applied (tests assert it never exceeds 1). */
  async appliedTimes(labelPrefix: string): Promise<Map<string, number>> {
    return this.access.exclusive(async (conn) => {
      const reader = await conn.runAndReadAll("SELECT label, applied_times FROM _tide.loads WHERE starts_with(label, $1)", [labelPrefix]);
      return new Map(reader.getRowsJson().map((r) => [String(r[0]), Number(r[1])]));
    });
  }

  /** Forgets finished loads older than the newest `keep` of a prefix. */
  async pruneFinished(labelPrefix: string, keep = 1_000): Promise<void> {
    await this.access.exclusive((conn) =>
      conn.run(
        `DELETE FROM _tide.loads WHERE label IN (
           SELECT label FROM _tide.loads WHERE starts_with(label, $1) AND state IN ('committed', 'aborted')
           ORDER BY finished_at DESC OFFSET ${Math.max(0, Math.floor(keep))})`,
        [labelPrefix],
      ),
    );
  }
}

class EmbeddedLoad implements SinkLoad {
  private seq = 0;

  constructor(
    private readonly access: WriterAccess,
    readonly label: string,
    readonly target: SinkTableSpec,
  ) {}

  async write(changes: RowChange[]): Promise<void> {
    if (changes.length === 0) return;
    const keyed = this.target.model === "unique" && this.target.keyColumns.length > 0;
    const keyChanged = (before: Record<string, unknown>, after: Record<string, unknown>) =>
      this.target.keyColumns.some((k) => String(before[k]) !== String(after[k]));
    await this.access.exclusive(async (conn) => {
      await this.assertState(conn, "open", "written to");
      const plans = this.target.columns.map((c) => [c.name, planColumn(c.mysqlType)] as const);
      const appender = await conn.createAppender(`${this.target.schema}.${this.target.table}`, "_tide_stage");
      const stage = (row: Record<string, unknown>, op: number) => {
        for (const [name, plan] of plans) appendValue(appender, row[name], plan);
        appender.appendVarchar(this.label);
        appender.appendBigInt(BigInt(this.seq++));
        appender.appendUTinyInt(op);
        appender.endRow();
      };
      try {
        for (const change of changes) {
          if (change.op === "insert") stage(change.after, OP_UPSERT);
          else if (change.op === "delete") {
            if (keyed) stage(change.before, OP_DELETE);
          } else {
            if (keyed && keyChanged(change.before, change.after)) stage(change.before, OP_DELETE);
            stage(change.after, OP_UPSERT);
          }
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      await conn.run("UPDATE _tide.loads SET rows_staged = rows_staged + $1 WHERE label = $2", [changes.length, this.label]);
    });
  }

  async precommit(): Promise<void> {
    await this.access.exclusive(async (conn) => {
      await this.assertState(conn, "open", "precommitted");
      // Staged rows are already durable (each write committed); this marks the load complete.
      await conn.run("UPDATE _tide.loads SET state = 'precommitted' WHERE label = $1", [this.label]);
    });
  }

  private async assertState(conn: DuckDBConnection, expected: LoadState, wanted: string): Promise<void> {
    const current = await state(conn, this.label);
    if (current !== expected) throw new LabelStateError(this.label, current, wanted);
  }
}

async function loadRow(conn: DuckDBConnection, label: string): Promise<{ state: LoadState; schema: string; table: string } | undefined> {
  const reader = await conn.runAndReadAll("SELECT state, schema_name, table_name FROM _tide.loads WHERE label = $1", [label]);
  const row = reader.getRowsJson()[0];
  return row ? { state: String(row[0]) as LoadState, schema: String(row[1]), table: String(row[2]) } : undefined;
}

async function state(conn: DuckDBConnection, label: string): Promise<LoadState | undefined> {
  return (await loadRow(conn, label))?.state;
}

export const STAGE_META_COLUMNS = META_COLUMNS;
