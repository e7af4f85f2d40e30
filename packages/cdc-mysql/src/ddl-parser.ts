// The source's DDL, understood: statements from binlog query events parsed
// (with node-sql-parser's MariaDB grammar) into typed schema changes. Changes
// that do not alter a table's shape (indexes, comments, engine options) come
// back as `ignored` with the reason, so the history can still show them.
import sqlParser from "node-sql-parser";

export type SchemaChange =
  | { kind: "add_column"; database: string; table: string; column: ColumnDefinition; position?: { first: true } | { after: string } }
  | { kind: "drop_column"; database: string; table: string; column: string }
  | { kind: "rename_column"; database: string; table: string; from: string; to: string }
  | { kind: "modify_column"; database: string; table: string; column: string; newName?: string; definition: ColumnDefinition }
  | { kind: "rename_table"; database: string; table: string; toDatabase: string; toTable: string }
  | { kind: "truncate_table"; database: string; table: string }
  | { kind: "create_table"; database: string; table: string }
  | { kind: "drop_table"; database: string; table: string }
  | { kind: "ignored"; database: string; table: string; reason: string };

export type SchemaChangeKind = SchemaChange["kind"];

export interface ColumnDefinition {
  name: string;
  /** As information_schema.COLUMN_TYPE would show it, e.g. `varchar(20)`, `bigint unsigned`, `decimal(12,2)`. */
  mysqlType: string;
  nullable: boolean;
  /** The DEFAULT literal as written, if any. */
  defaultValue?: string;
}

const parser = new sqlParser.Parser();

interface TableRef {
  db: string | null;
  table: string;
}

/** Parses one DDL statement; `defaultDatabase` is the query event's session database. Returns [] for non-DDL. */
export function parseDdl(statement: string, defaultDatabase: string): SchemaChange[] {
  const trimmed = statement.trim();
  if (!/^(ALTER|CREATE|DROP|RENAME|TRUNCATE)\b/i.test(trimmed)) return [];
  let ast: unknown;
  try {
    ast = parser.astify(trimmed, { database: "MariaDB" });
  } catch (error) {
    return [{ kind: "ignored", database: defaultDatabase, table: "", reason: `not understood: ${(error as Error).message.split("\n")[0]}` }];
  }
  const nodes = (Array.isArray(ast) ? ast : [ast]) as Record<string, unknown>[];
  return nodes.flatMap((node) => fromNode(node, defaultDatabase));
}

function ref(t: TableRef, defaultDatabase: string): { database: string; table: string } {
  return { database: t.db ?? defaultDatabase, table: t.table };
}

function fromNode(node: Record<string, unknown>, db: string): SchemaChange[] {
  switch (node.type) {
    case "alter": {
      const table = ref((node.table as TableRef[])[0]!, db);
      return ((node.expr as Record<string, unknown>[]) ?? []).map((e) => fromAlter(e, table));
    }
    case "rename":
      return (node.table as TableRef[][]).map(([from, to]) => {
        const a = ref(from!, db);
        const b = ref(to!, db);
        return { kind: "rename_table" as const, ...a, toDatabase: b.database, toTable: b.table };
      });
    case "truncate":
      return (node.name as TableRef[]).map((t) => ({ kind: "truncate_table" as const, ...ref(t, db) }));
    case "drop":
      if (node.keyword !== "table") return [{ kind: "ignored", database: db, table: "", reason: `DROP ${String(node.keyword).toUpperCase()}` }];
      return (node.name as TableRef[]).map((t) => ({ kind: "drop_table" as const, ...ref(t, db) }));
    case "create":
      if (node.keyword !== "table") return [{ kind: "ignored", database: db, table: "", reason: `CREATE ${String(node.keyword).toUpperCase()}` }];
      return (node.table as TableRef[]).map((t) => ({ kind: "create_table" as const, ...ref(t, db) }));
    default:
      return [];
  }
}

function columnName(value: unknown): string {
  const c = value as { column?: unknown; expr?: { value?: unknown } } | string;
  if (typeof c === "string") return c;
  const column = c?.column;
  if (typeof column === "string") return column;
  if (column && typeof column === "object" && "expr" in column) return String((column as { expr: { value: unknown } }).expr.value);
  return String(column);
}

function fromAlter(e: Record<string, unknown>, table: { database: string; table: string }): SchemaChange {
  const action = String(e.action ?? "").toLowerCase();
  const resource = String(e.resource ?? "").toLowerCase();
  if (resource === "column" && action === "add") {
    const suffix = e.suffix as { keyword?: string; expr?: unknown } | null | undefined;
    const first = typeof e.first_after === "object" && e.first_after !== null ? (e.first_after as { keyword?: string }) : undefined;
    const positionKeyword = (suffix?.keyword ?? first?.keyword ?? "").toUpperCase();
    const position =
      positionKeyword === "FIRST" ? { first: true as const } : positionKeyword === "AFTER" ? { after: columnName(suffix?.expr ?? (first as { column?: unknown })?.column) } : undefined;
    return { kind: "add_column", ...table, column: definitionOf(columnName(e.column), e), ...(position ? { position } : {}) };
  }
  if (resource === "column" && action === "drop") return { kind: "drop_column", ...table, column: columnName(e.column) };
  if (action === "rename" && (resource === "column" || e.old_column)) {
    return { kind: "rename_column", ...table, from: columnName(e.old_column ?? e.column), to: columnName(e.column) };
  }
  if (resource === "column" && (action === "modify" || action === "change")) {
    const name = columnName(e.old_column ?? e.column);
    const newName = columnName(e.column);
    return { kind: "modify_column", ...table, column: name, ...(newName !== name ? { newName } : {}), definition: definitionOf(newName, e) };
  }
  if (action === "rename" && (resource === "table" || e.table)) {
    const to = e.table as TableRef | string;
    const target = typeof to === "string" ? { db: null, table: to } : to;
    return { kind: "rename_table", ...table, toDatabase: target.db ?? table.database, toTable: target.table };
  }
  return { kind: "ignored", ...table, reason: `${action || "change"} ${resource || "option"} does not change the table's columns` };
}

function definitionOf(name: string, e: Record<string, unknown>): ColumnDefinition {
  const d = (e.definition ?? {}) as { dataType?: string; length?: number; scale?: number; suffix?: unknown };
  let type = String(d.dataType ?? "varchar").toLowerCase();
  if (d.length !== undefined && d.length !== null) type += d.scale !== undefined && d.scale !== null ? `(${d.length},${d.scale})` : `(${d.length})`;
  const suffix = JSON.stringify(d.suffix ?? []).toLowerCase();
  if (suffix.includes("unsigned")) type += " unsigned";
  const nullable = !JSON.stringify(e.nullable ?? "").toLowerCase().includes("not null");
  const dv = (e.default_val as { value?: { value?: unknown } } | undefined)?.value?.value;
  return { name, mysqlType: type, nullable, ...(dv !== undefined ? { defaultValue: String(dv) } : {}) };
}
