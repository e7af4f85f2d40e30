// Follows the source's DDL: each schema change of a followed table is handled
// by the job's schema.change.behavior (Flink CDC's meanings), applied to the
// warehouse as a light schema change where that is the answer, and recorded
// in the job's schema-change history with what was done and how long it took.
import { parseDdl, type SchemaChange } from "@tide/cdc-mysql";
import type { BinlogPosition, PipelineSpec, SchemaChangeBehavior, SinkTableSpec } from "@tide/contracts";
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

type Decision = { outcome: "apply"; change: ColumnChange } | { outcome: "ignored"; detail: string };

export async function handleDdl(args: {
  jobId: number;
  spec: PipelineSpec;
  event: DdlEvent;
  /** Followed source tables (`db.table`) → their warehouse tables. Updated in place when a change applies. */
  targets: Map<string, SinkTableSpec>;
  warehouse: Warehouse;
  store: JobStore;
  log: Logger;
}): Promise<void> {
  const behavior = args.spec.pipeline["schema.change.behavior"];
  for (const change of parseDdl(args.event.statement, args.event.database)) {
    const key = `${change.database}.${change.table}`;
    const target = args.targets.get(key);
    if (!target) continue; // not a table this job follows (new tables join through the table watcher)
    const record = {
      jobId: args.jobId,
      sourceDatabase: change.database,
      sourceTable: change.table,
      statement: args.event.statement,
      kind: change.kind,
      parsed: change,
      behavior,
      position: args.event.position,
      sourceTime: new Date(args.event.commitTimeMs),
    };
    let decision: Decision;
    try {
      decision = decide(change, behavior, args.spec);
    } catch (error) {
      await args.store.recordSchemaChange({ ...record, outcome: "failed", detail: (error as Error).message, durationMs: 0, columnsBefore: target.columns, columnsAfter: target.columns });
      throw error;
    }
    if (decision.outcome === "ignored") {
      await args.store.recordSchemaChange({ ...record, outcome: "ignored", detail: decision.detail, durationMs: 0, columnsBefore: target.columns, columnsAfter: target.columns });
      continue;
    }
    try {
      const result = await args.warehouse.alterTable(target.schema, target.table, decision.change);
      args.targets.set(key, result.spec);
      await args.store.recordSchemaChange({
        ...record,
        outcome: result.applied ? "applied" : "ignored",
        detail: result.applied ? result.detail : `already applied: ${result.detail}`,
        durationMs: result.durationMs,
        columnsBefore: result.columnsBefore,
        columnsAfter: result.columnsAfter,
      });
      args.log.info("schema change applied", { table: key, change: change.kind, detail: result.detail, ms: Math.round(result.durationMs * 100) / 100 });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await args.store.recordSchemaChange({ ...record, outcome: "failed", detail: message, durationMs: 0, columnsBefore: target.columns, columnsAfter: target.columns });
      if (behavior === "evolve") throw new SchemaChangeRejected(`The schema change of ${key} (${args.event.statement.trim()}) could not be applied to ${target.schema}.${target.table}: ${message}. The job's schema.change.behavior is evolve.`);
      args.log.warn("schema change not applied; tolerated", { table: key, error: message, behavior });
    }
  }
}

function decide(change: SchemaChange, behavior: SchemaChangeBehavior, spec: PipelineSpec): Decision {
  if (change.kind === "ignored") return { outcome: "ignored", detail: change.reason };
  const include = spec.sink["include.schema.changes"];
  const exclude = spec.sink["exclude.schema.changes"];
  if ((include && !include.includes(change.kind)) || exclude?.includes(change.kind)) {
    return { outcome: "ignored", detail: `excluded by the job's include/exclude.schema.changes` };
  }
  if (behavior === "exception") {
    throw new SchemaChangeRejected(
      `The source changed ${change.database}.${change.table} (${change.kind.replace("_", " ")}) and this job's schema.change.behavior is exception. Change the behavior or re-snapshot the table.`,
    );
  }
  if (behavior === "ignore") return { outcome: "ignored", detail: "the job's schema.change.behavior is ignore" };
  switch (change.kind) {
    case "add_column":
      return { outcome: "apply", change: { kind: "add_column", column: change.column, ...(change.column.defaultValue !== undefined ? { defaultValue: change.column.defaultValue } : {}) } };
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
          definition: change.definition,
          ...(behavior === "lenient" ? { onFailure: "new_column" as const } : {}),
        },
      };
    case "truncate_table":
      return { outcome: "apply", change: { kind: "truncate_table" } };
    case "rename_table":
      return { outcome: "ignored", detail: `the warehouse table keeps its name; the job follows ${change.database}.${change.table} only while the pattern matches` };
    case "drop_table":
      return { outcome: "ignored", detail: "the warehouse table and its rows are kept" };
    case "create_table":
      return { outcome: "ignored", detail: "a new table joins the job when its pattern matches" };
  }
}
