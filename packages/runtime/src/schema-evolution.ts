// Follows the source's DDL: each schema change of a followed table is handled
// by the job's schema.change.behavior (Flink CDC's meanings), applied to the
// warehouse as a light schema change where that is the answer, and recorded
// in the job's schema-change history with what was done and how long it took.
// A statement on a followed table that cannot be understood is recorded as
// failed (it may have changed the shape); exception and evolve stop the job on it.
import { parseDdl, type ColumnDefinition, type SchemaChange } from "@tide/cdc-mysql";
import {
  matchesPattern,
  sinkTableFor,
  tablePatterns,
  type BinlogPosition,
  type ColumnSchema,
  type PipelineSpec,
  type SchemaChangeBehavior,
  type SinkTableSpec,
} from "@tide/contracts";
import type { ColumnChange, Warehouse } from "@tide/warehouse";
import type { JobStore } from "./job-store";
import type { Logger } from "./logger";

/** A schema change the job's behavior does not allow: the job stops (failed) with this message. */
export class SchemaChangeRejected extends Error {}

export interface DdlEvent {
  statement: string;
  database: string;
  position: BinlogPosition;
  commitTimeMs: number;
}

type Decision =
  | { outcome: "apply"; change: ColumnChange }
  /** evolve / try_evolve: the warehouse table follows the source table's new name. */
  | { outcome: "rename_table"; toKey: string; toSchema: string; toTable: string }
  | { outcome: "drop_table" }
  /** A followed table created again (after a drop): its warehouse table is made if it is missing. */
  | { outcome: "create_table" }
  | { outcome: "ignored"; detail: string }
  /** Recorded as failed; the job goes on. */
  | { outcome: "failed"; detail: string }
  /** Recorded as failed; the job stops with this message. */
  | { outcome: "reject"; detail: string; message: string };

interface Planned {
  change: SchemaChange;
  /** The followed table the record is filed under (`db.table`). */
  key: string;
  decision: Decision;
}

export async function handleDdl(args: {
  jobId: number;
  spec: PipelineSpec;
  event: DdlEvent;
  /**
   * Followed source tables (`db.table`) → their warehouse tables. Updated in place when a change
   * applies; a renamed table's new name is added (the old one stays, so a table created again
   * under it finds its route).
   */
  targets: Map<string, SinkTableSpec>;
  warehouse: Warehouse;
  store: JobStore;
  log: Logger;
}): Promise<void> {
  const behavior = args.spec.pipeline["schema.change.behavior"];
  const { event, warehouse, targets } = args;
  // Every change of the statement is decided before any is applied: one the behavior refuses
  // stops the job with the warehouse as it was (the statement is read again on restart).
  const plan = planChanges(event.statement, parseDdl(event.statement, event.database), behavior, args.spec, new Set(targets.keys()));
  const record = (p: Planned, outcome: "applied" | "ignored" | "failed", detail: string, extra: { durationMs?: number; columnsBefore?: ColumnSchema[]; columnsAfter?: ColumnSchema[] } = {}) => {
    const [database, table] = splitKey(p.key);
    const columns = targets.get(p.key)?.columns ?? [];
    return args.store.recordSchemaChange({
      jobId: args.jobId,
      sourceDatabase: database,
      sourceTable: table,
      statement: event.statement,
      kind: p.change.kind,
      parsed: p.change,
      behavior,
      position: event.position,
      sourceTime: new Date(event.commitTimeMs),
      outcome,
      detail,
      durationMs: extra.durationMs ?? 0,
      columnsBefore: extra.columnsBefore ?? columns,
      columnsAfter: extra.columnsAfter ?? columns,
    });
  };
  const rejected = plan.find((p) => p.decision.outcome === "reject");
  if (rejected?.decision.outcome === "reject") {
    await record(rejected, "failed", rejected.decision.detail);
    throw new SchemaChangeRejected(rejected.decision.message);
  }

  for (const p of plan) {
    const { decision } = p;
    const target = targets.get(p.key);
    if (decision.outcome === "ignored" || decision.outcome === "failed") {
      await record(p, decision.outcome, decision.detail);
      if (decision.outcome === "failed") args.log.warn("schema change not applied; the job goes on", { table: p.key, detail: decision.detail, behavior });
      continue;
    }
    if (decision.outcome === "reject") continue; // handled above
    if (!target) continue; // planned on a table this statement already took away
    try {
      const done = await applyDecision(decision, p, target, targets, warehouse);
      await record(p, done.applied ? "applied" : "ignored", done.detail, done);
      args.log.info("schema change handled", { table: p.key, change: p.change.kind, detail: done.detail, ms: Math.round(done.durationMs * 100) / 100 });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await record(p, "failed", message);
      if (behavior === "evolve") {
        throw new SchemaChangeRejected(
          `The schema change of ${p.key} (${event.statement.trim()}) could not be applied to ${target.schema}.${target.table}: ${message}. The job's schema.change.behavior is evolve.`,
        );
      }
      args.log.warn("schema change not applied; tolerated", { table: p.key, error: message, behavior });
    }
  }
}

interface Done {
  applied: boolean;
  detail: string;
  durationMs: number;
  columnsBefore: ColumnSchema[];
  columnsAfter: ColumnSchema[];
}

async function applyDecision(decision: Decision, p: Planned, target: SinkTableSpec, targets: Map<string, SinkTableSpec>, warehouse: Warehouse): Promise<Done> {
  const name = `${target.schema}.${target.table}`;
  switch (decision.outcome) {
    case "apply": {
      const result = await warehouse.alterTable(target.schema, target.table, decision.change);
      targets.set(p.key, result.spec);
      return { ...result, detail: result.applied ? result.detail : `already applied: ${result.detail}` };
    }
    case "rename_table": {
      const to = { schema: decision.toSchema, table: decision.toTable };
      const started = performance.now();
      if (to.schema === target.schema && to.table === target.table) {
        targets.set(decision.toKey, target);
        return { applied: true, detail: `the warehouse table keeps its name ${name} (the job's route sends ${decision.toKey} there too)`, durationMs: 0, columnsBefore: target.columns, columnsAfter: target.columns };
      }
      if (!(await warehouse.recordedSpec(target.schema, target.table)) && (await warehouse.recordedSpec(to.schema, to.table))) {
        // Read again after a restart: done before.
        targets.set(decision.toKey, { ...target, ...to });
        return { applied: false, detail: `already applied: ${name} is ${to.schema}.${to.table}`, durationMs: performance.now() - started, columnsBefore: target.columns, columnsAfter: target.columns };
      }
      const result = await warehouse.alterTable(target.schema, target.table, { kind: "rename_table", toSchema: to.schema, toTable: to.table });
      targets.set(decision.toKey, result.spec);
      return { ...result, detail: `${result.detail}; ${decision.toKey} is followed under its new name` };
    }
    case "drop_table": {
      const started = performance.now();
      const existed = await warehouse.recordedSpec(target.schema, target.table);
      await warehouse.dropTable(target.schema, target.table);
      // The route stays: a table created again under this name finds it (see create_table).
      return { applied: existed !== undefined, detail: existed ? `dropped ${name} and its rows` : `already applied: ${name} is gone`, durationMs: performance.now() - started, columnsBefore: target.columns, columnsAfter: [] };
    }
    case "create_table": {
      const started = performance.now();
      if (await warehouse.recordedSpec(target.schema, target.table)) {
        return { applied: false, detail: `${name} is there already; it keeps its rows and receives the new table's rows`, durationMs: 0, columnsBefore: target.columns, columnsAfter: target.columns };
      }
      const change = p.change as Extract<SchemaChange, { kind: "create_table" }>;
      const like = change.like ? targets.get(`${change.like.database}.${change.like.table}`) : undefined;
      const columns: ColumnSchema[] | undefined = change.columns?.map(toColumnSchema) ?? like?.columns;
      if (!columns || columns.length === 0) throw new Error(`the columns of the new ${p.key} are not known from the statement; re-snapshot the table`);
      const keyColumns = target.keyColumns.every((k) => columns.some((c) => c.name === k)) ? target.keyColumns : (change.primaryKey ?? like?.keyColumns ?? []);
      if (target.model === "unique" && keyColumns.length === 0) throw new Error(`the new ${p.key} has no key for ${name}; re-snapshot the table`);
      const spec: SinkTableSpec = { ...target, columns, keyColumns };
      await warehouse.ensureTable(spec);
      targets.set(p.key, spec);
      return { applied: true, detail: `created ${name} with the new table's columns`, durationMs: performance.now() - started, columnsBefore: [], columnsAfter: columns };
    }
    default:
      throw new Error(`nothing to apply for ${decision.outcome}`);
  }
}

function toColumnSchema(c: ColumnDefinition): ColumnSchema {
  return { name: c.name, mysqlType: c.mysqlType, nullable: c.nullable };
}

/**
 * Decides each change in order, on a copy of the followed set (a statement can rename
 * or drop a table and then name the next one). Changes of tables the job neither follows
 * nor would follow are left out.
 */
function planChanges(statement: string, changes: SchemaChange[], behavior: SchemaChangeBehavior, spec: PipelineSpec, followed: Set<string>): Planned[] {
  const patterns = tablePatterns(spec.source);
  const plan: Planned[] = [];
  for (const change of changes) {
    const key = `${change.database}.${change.table}`;
    if (change.kind === "rename_table") {
      const toKey = `${change.toDatabase}.${change.toTable}`;
      if (followed.has(toKey) && toKey !== key) {
        // An online schema-change tool's swap: another table now has the followed name.
        plan.push({ change, key: toKey, decision: renamedOnto(change, behavior, toKey) });
        continue;
      }
      if (!followed.has(key)) {
        if (matchesPattern(patterns, change.toDatabase, change.toTable)) plan.push({ change, key: toKey, decision: { outcome: "ignored", detail: `${toKey} matches the job's tables: it joins the job at the next table check, copied by a snapshot` } });
        continue;
      }
    }
    if (!followed.has(key)) {
      if (change.kind === "create_table" && matchesPattern(patterns, change.database, change.table)) {
        plan.push({ change, key, decision: { outcome: "ignored", detail: `${key} matches the job's tables: it joins the job at the next table check, copied by a snapshot` } });
      }
      continue;
    }
    const decision = decide(change, behavior, spec, patterns, statement);
    plan.push({ change, key, decision });
    if (decision.outcome === "rename_table") followed.add(decision.toKey);
  }
  return plan;
}

function renamedOnto(change: Extract<SchemaChange, { kind: "rename_table" }>, behavior: SchemaChangeBehavior, toKey: string): Decision {
  const detail = `${change.database}.${change.table} was renamed to ${toKey}, which the job follows: rows from here on come from that table, whose shape the warehouse table may not have; re-snapshot ${toKey} (jobs resnapshot)`;
  if (behavior === "ignore") return { outcome: "ignored", detail: `the job's schema.change.behavior is ignore; ${detail}` };
  if (behavior === "exception" || behavior === "evolve") {
    return { outcome: "reject", detail, message: `The source replaced ${toKey} (${change.database}.${change.table} renamed to it) and this job's schema.change.behavior is ${behavior}. Re-snapshot the table or change the behavior.` };
  }
  return { outcome: "failed", detail };
}

function decide(change: SchemaChange, behavior: SchemaChangeBehavior, spec: PipelineSpec, patterns: RegExp[], statement: string): Decision {
  const key = `${change.database}.${change.table}`;
  if (change.kind === "ignored") return { outcome: "ignored", detail: change.reason };
  if (change.kind === "unknown") {
    // Not understood: it may have changed the shape, so it is never just ignored.
    const detail = `${change.reason}; the warehouse table was left as it was`;
    if (behavior === "exception" || behavior === "evolve") {
      return {
        outcome: "reject",
        detail,
        message: `A statement on ${key} was ${change.reason} (${statement.trim()}), and this job's schema.change.behavior is ${behavior}. Re-snapshot the table, or change the behavior to carry on.`,
      };
    }
    return { outcome: "failed", detail };
  }
  const include = spec.sink["include.schema.changes"];
  const exclude = spec.sink["exclude.schema.changes"];
  if (include && !include.includes(change.kind)) return { outcome: "ignored", detail: `${change.kind} is not in the job's include.schema.changes (${include.join(", ")})` };
  if (exclude?.includes(change.kind)) return { outcome: "ignored", detail: `${change.kind} is in the job's exclude.schema.changes` };
  if (behavior === "exception") {
    const message = `The source changed ${key} (${change.kind.replace("_", " ")}) and this job's schema.change.behavior is exception. Change the behavior or re-snapshot the table.`;
    return { outcome: "reject", detail: message, message };
  }
  if (behavior === "ignore") return { outcome: "ignored", detail: "the job's schema.change.behavior is ignore" };
  const evolving = behavior === "evolve" || behavior === "try_evolve";
  switch (change.kind) {
    case "add_column":
      return { outcome: "apply", change: { kind: "add_column", column: toColumnSchema(change.column), ...(change.column.defaultValue !== undefined ? { defaultValue: change.column.defaultValue } : {}) } };
    case "drop_column":
      // Lenient keeps the column: rows written from now on have NULL in it.
      return behavior === "lenient"
        ? { outcome: "ignored", detail: `lenient: ${change.column} is kept; rows written from now on have NULL in it` }
        : { outcome: "apply", change: { kind: "drop_column", column: change.column } };
    case "rename_column":
      return { outcome: "apply", change: { kind: "rename_column", from: change.from, to: change.to } };
    case "modify_column":
      // Lenient: a type the stored values cannot take becomes a new column (the old values are kept beside it).
      return {
        outcome: "apply",
        change: {
          kind: "modify_column",
          column: change.column,
          ...(change.newName ? { newName: change.newName } : {}),
          definition: toColumnSchema(change.definition),
          ...(behavior === "lenient" ? { onFailure: "new_column" as const } : {}),
        },
      };
    case "truncate_table":
      return { outcome: "apply", change: { kind: "truncate_table" } };
    case "rename_table": {
      const toKey = `${change.toDatabase}.${change.toTable}`;
      if (!matchesPattern(patterns, change.toDatabase, change.toTable)) {
        return { outcome: "ignored", detail: `${toKey} does not match the job's tables: ${key} leaves the job; its warehouse table and rows are kept` };
      }
      if (!evolving) return { outcome: "ignored", detail: `lenient: the warehouse table keeps its name and rows; ${toKey} joins the job at the next table check, copied by a snapshot` };
      const [toSchema, toTable] = sinkTableFor(spec, change.toDatabase, change.toTable).split(".") as [string, string];
      return { outcome: "rename_table", toKey, toSchema, toTable };
    }
    case "drop_table":
      return evolving ? { outcome: "drop_table" } : { outcome: "ignored", detail: `lenient: the warehouse table and its rows are kept; ${key} is no longer followed unless it is created again` };
    case "create_table":
      // The name is followed: the table was dropped (or replaced) and created again.
      return { outcome: "create_table" };
  }
}

function splitKey(key: string): [string, string] {
  const dot = key.indexOf(".");
  return [key.slice(0, dot), key.slice(dot + 1)];
}
