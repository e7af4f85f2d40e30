// Compares prisma/schema.prisma with the tables the migrations create: the
// guard that keeps hand-written migration SQL in step with the schema.
import type { Connection } from "mysql2/promise";

export interface ModelColumn {
  model: string;
  table: string;
  column: string;
  /** Expected information_schema COLUMN_TYPE family, e.g. "int", "varchar(64)", "datetime(3)". */
  type: string;
  nullable: boolean;
}

const SCALARS = new Set(["Int", "BigInt", "String", "DateTime", "Json", "Float", "Boolean", "Decimal"]);

export function parseSchema(text: string): ModelColumn[] {
  const columns: ModelColumn[] = [];
  for (const match of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const [, model, body] = match as unknown as [string, string, string];
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? model;
    for (const line of body.split("\n")) {
      const field = /^\s+(\w+)\s+(\w+)(\??)(\[\])?(.*)$/.exec(line);
      if (!field) continue;
      const [, name, type, optional, list, rest] = field as unknown as [string, string, string, string, string | undefined, string];
      if (!SCALARS.has(type) || list) continue;
      const column = /@map\("([^"]+)"\)/.exec(rest)?.[1] ?? name;
      const native = /@db\.(\w+)(?:\(([\d, ]+)\))?/.exec(rest);
      columns.push({ model, table, column, type: expectedType(type, native?.[1], native?.[2]), nullable: optional === "?" });
    }
  }
  return columns;
}

function expectedType(prismaType: string, native: string | undefined, args: string | undefined): string {
  if (native) return `${native.toLowerCase()}${args ? `(${args.replace(/\s/g, "")})` : ""}`;
  switch (prismaType) {
    case "Int":
      return "int";
    case "BigInt":
      return "bigint";
    case "String":
      return "varchar(191)";
    case "DateTime":
      return "datetime(3)";
    case "Json":
      return "json";
    case "Float":
      return "double";
    case "Boolean":
      return "tinyint(1)";
    default:
      return prismaType.toLowerCase();
  }
}

/** Every difference between the schema's models and the database, in words; empty when they agree. */
export async function findDrift(conn: Connection, database: string, schemaText: string): Promise<string[]> {
  const expected = parseSchema(schemaText);
  const [rows] = (await conn.query(
    `SELECT col.TABLE_NAME AS t, col.COLUMN_NAME AS c, col.COLUMN_TYPE AS type, col.DATA_TYPE AS dataType, col.IS_NULLABLE AS nullable, chk.CHECK_CLAUSE AS json_check
     FROM information_schema.COLUMNS col
     LEFT JOIN information_schema.CHECK_CONSTRAINTS chk ON chk.CONSTRAINT_SCHEMA = col.TABLE_SCHEMA AND chk.TABLE_NAME = col.TABLE_NAME AND chk.CONSTRAINT_NAME = col.COLUMN_NAME
     WHERE col.TABLE_SCHEMA = ? AND col.TABLE_NAME <> '_prisma_migrations'`,
    [database],
  )) as unknown as [{ t: string; c: string; type: string; dataType: string; nullable: string; json_check: string | null }[]];
  const actual = new Map(rows.map((r) => [`${r.t}.${r.c}`, r]));
  const problems: string[] = [];
  for (const e of expected) {
    const a = actual.get(`${e.table}.${e.column}`);
    if (!a) {
      problems.push(`${e.model}.${e.column}: column ${e.table}.${e.column} is missing from the migrations`);
      continue;
    }
    actual.delete(`${e.table}.${e.column}`);
    // MariaDB shows JSON as longtext with a json_valid check; int display widths vary by server.
    const got = e.type === "json" && (a.json_check?.includes("json_valid") || a.dataType === "json") ? "json" : a.type.replace(/^(int|bigint)\(\d+\)/, "$1");
    if (got !== e.type) problems.push(`${e.table}.${e.column}: schema.prisma says ${e.type}, the database has ${a.type}`);
    if ((a.nullable === "YES") !== e.nullable) problems.push(`${e.table}.${e.column}: nullability differs (schema ${e.nullable ? "optional" : "required"})`);
  }
  for (const key of actual.keys()) problems.push(`${key}: the database has a column schema.prisma does not`);
  return problems;
}
