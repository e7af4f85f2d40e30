// Which source tables a spec selects and how each lands in the warehouse. Used by
// the API (to validate a wizard or YAML before saving) and by the worker (to start).
import type { DiscoveredTable } from "./source-checks";
import {
  matchesPattern,
  sinkTableFor,
  tablePatterns,
  transformFor,
  type PipelineSpec,
} from "./pipeline-spec";
import type { TableModel } from "./job-states";

export interface ResolvedTable {
  database: string;
  table: string;
  /** `ods.orders` */
  sinkTable: string;
  model: TableModel;
  keyColumns: string[];
}

export interface ResolveResult {
  tables: ResolvedTable[];
  /** Field-level problems keyed like InvalidInputError.fieldErrors. Empty when the spec can run. */
  problems: Record<string, string>;
}

export function resolveTables(spec: PipelineSpec, discovered: DiscoveredTable[]): ResolveResult {
  const patterns = tablePatterns(spec.source);
  const problems: Record<string, string> = {};
  const tables: ResolvedTable[] = [];
  const sinkOwners = new Map<string, string>();

  for (const t of discovered) {
    if (!matchesPattern(patterns, t.database, t.table)) continue;
    const qualified = `${t.database}.${t.table}`;
    const transform = transformFor(spec, t.database, t.table);
    const pickedKeys = transform?.["primary-keys"]
      ?.split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    const keyColumns = pickedKeys && pickedKeys.length > 0 ? pickedKeys : t.primaryKey;
    // A key-less table is never silently made append-only: the user chooses (transform).
    const model: TableModel = transform?.["table-model"] ?? "unique";
    const unknown = keyColumns.filter((k) => !t.columns.some((c) => c.name === k));
    if (unknown.length > 0) {
      problems[`tables.${qualified}`] = `${qualified} has no column ${unknown.join(", ")} to use as its key`;
      continue;
    }
    if (model === "unique" && keyColumns.length === 0) {
      problems[`tables.${qualified}`] =
        `${qualified} has no primary key: pick key columns, or sync it append-only`;
      continue;
    }
    const sinkTable = sinkTableFor(spec, t.database, t.table);
    const owner = sinkOwners.get(sinkTable);
    if (owner) {
      problems[`tables.${qualified}`] = `${qualified} and ${owner} would both be written to ${sinkTable}`;
      continue;
    }
    sinkOwners.set(sinkTable, qualified);
    tables.push({ database: t.database, table: t.table, sinkTable, model, keyColumns: model === "unique" ? keyColumns : [] });
  }
  if (tables.length === 0 && Object.keys(problems).length === 0) {
    problems["source.tables"] = `No table of the source matches "${spec.source.tables}"`;
  }
  return { tables, problems };
}
