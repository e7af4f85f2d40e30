// Compares prisma/schema.prisma with the tables the migrations create: the
// guard that keeps hand-written migration SQL in step with the schema. A small
// parser of the schema's `model X { ... }` blocks gives the tables, columns,
// keys, indexes and foreign keys Prisma's MySQL migrate would create; they are
// checked against information_schema.
import type { Connection } from "mysql2/promise";

export interface ModelColumn {
  model: string;
  field: string;
  table: string;
  column: string;
  /** Expected information_schema COLUMN_TYPE, e.g. "int", "varchar(64)", "datetime(3)", "json". */
  type: string;
  nullable: boolean;
  autoincrement: boolean;
  /** "now" for now(), the literal for a constant, undefined without @default (or for autoincrement/uuid/cuid). */
  default: string | undefined;
}

export interface ModelIndex {
  model: string;
  table: string;
  /** Prisma's name: <table>_<cols>_key / _idx, or map: "..." */
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}

export interface ModelForeignKey {
  model: string;
  table: string;
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface ParsedSchema {
  tables: Map<string, string>; // model -> table
  columns: ModelColumn[];
  indexes: ModelIndex[];
  foreignKeys: ModelForeignKey[];
}

const SCALARS = new Set(["Int", "BigInt", "String", "DateTime", "Json", "Float", "Boolean", "Decimal", "Bytes"]);
const REFERENTIAL: Record<string, string> = { Cascade: "CASCADE", Restrict: "RESTRICT", NoAction: "NO ACTION", SetNull: "SET NULL", SetDefault: "SET DEFAULT" };

interface RawField {
  name: string;
  type: string;
  optional: boolean;
  list: boolean;
  attrs: string;
}

function modelBlocks(text: string): { model: string; body: string }[] {
  const noComments = text.replace(/\/\/.*$/gm, "");
  return [...noComments.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)].map((m) => ({ model: m[1]!, body: m[2]! }));
}

function fieldsOf(body: string): RawField[] {
  const fields: RawField[] = [];
  for (const line of body.split("\n")) {
    const m = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
    if (!m) continue;
    fields.push({ name: m[1]!, type: m[2]!, list: m[3] === "[]", optional: m[4] === "?", attrs: m[5] ?? "" });
  }
  return fields;
}

/** The argument text of the first `@name(` / `@@name(` call, balancing parentheses. */
function callArgs(text: string, attribute: string, from = 0): { args: string; end: number } | undefined {
  const re = new RegExp(`${attribute.replace(/[@.]/g, (c) => `\\${c}`)}\\(`, "g");
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m) return undefined;
  let depth = 1;
  let i = m.index + m[0].length;
  const start = i;
  for (; i < text.length && depth > 0; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth--;
  }
  return { args: text.slice(start, i - 1), end: i };
}

function allCalls(text: string, attribute: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const call = callArgs(text, attribute, from);
    if (!call) return out;
    out.push(call.args);
    from = call.end;
  }
}

/** `[a, b(sort: Desc)]` at the start of args or after `key:` */
function listArg(args: string, key?: string): string[] {
  const m = key ? new RegExp(`${key}\\s*:\\s*\\[([^\\]]*)\\]`).exec(args) : /^\s*\[([^\]]*)\]/.exec(args);
  if (!m) return [];
  return m[1]!
    .split(",")
    .map((s) => s.replace(/\(.*\)/, "").trim())
    .filter(Boolean);
}

function stringArg(args: string, key: string): string | undefined {
  return new RegExp(`${key}\\s*:\\s*"([^"]*)"`).exec(args)?.[1];
}

function expectedType(prismaType: string, native: string | undefined, args: string | undefined): string {
  if (native) {
    const name = native.toLowerCase();
    const base = { unsignedint: "int unsigned", unsignedbigint: "bigint unsigned", unsignedsmallint: "smallint unsigned", unsignedtinyint: "tinyint unsigned" }[name] ?? name;
    return `${base}${args ? `(${args.replace(/\s/g, "")})` : ""}`;
  }
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
    case "Decimal":
      return "decimal(65,30)";
    case "Bytes":
      return "longblob";
    default:
      return prismaType.toLowerCase();
  }
}

export function parseSchema(text: string): ParsedSchema {
  const blocks = modelBlocks(text);
  const tables = new Map(blocks.map(({ model, body }) => [model, /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? model]));
  const columns: ModelColumn[] = [];
  const indexes: ModelIndex[] = [];
  const foreignKeys: ModelForeignKey[] = [];
  for (const { model, body } of blocks) {
    const table = tables.get(model)!;
    const fields = fieldsOf(body);
    const columnOf = new Map<string, string>();
    for (const f of fields) if (SCALARS.has(f.type) && !f.list) columnOf.set(f.name, /@map\("([^"]+)"\)/.exec(f.attrs)?.[1] ?? f.name);
    const col = (field: string) => columnOf.get(field) ?? `<unknown field ${field}>`;
    const named = (cols: string[], suffix: string, map: string | undefined) => map ?? `${table}_${cols.join("_")}_${suffix}`;

    for (const f of fields) {
      if (SCALARS.has(f.type) && !f.list) {
        const native = /@db\.(\w+)(?:\(([\d, ]+)\))?/.exec(f.attrs);
        const def = callArgs(f.attrs, "@default")?.args.trim();
        const autoincrement = def === "autoincrement()";
        const defaultValue = def === undefined || autoincrement || /^(uuid|cuid|nanoid|ulid)\(/.test(def) ? undefined : def === "now()" ? "now" : def.replace(/^"(.*)"$/, "$1");
        columns.push({
          model,
          field: f.name,
          table,
          column: col(f.name),
          type: expectedType(f.type, native?.[1], native?.[2]),
          nullable: f.optional,
          autoincrement,
          default: defaultValue,
        });
        if (/@id\b/.test(f.attrs)) indexes.push({ model, table, name: "PRIMARY", columns: [col(f.name)], unique: true, primary: true });
        const unique = /@unique\b(\(([^)]*)\))?/.exec(f.attrs);
        if (unique) indexes.push({ model, table, name: named([col(f.name)], "key", unique[2] ? stringArg(unique[2], "map") : undefined), columns: [col(f.name)], unique: true, primary: false });
        continue;
      }
      if (!tables.has(f.type)) continue; // enums and other non-model types: none in this schema
      const relation = callArgs(f.attrs, "@relation")?.args;
      const fkFields = relation ? listArg(relation, "fields") : [];
      if (!relation || fkFields.length === 0) continue; // the back side of a relation
      const fkColumns = fkFields.map(col);
      const optional = f.optional || fkFields.some((name) => fields.find((x) => x.name === name)?.optional);
      const onDelete = stringArgBare(relation, "onDelete") ?? (optional ? "SetNull" : "Restrict");
      const onUpdate = stringArgBare(relation, "onUpdate") ?? "Cascade";
      const target = tables.get(f.type)!;
      const targetColumns = listArg(relation, "references").map((name) => columnOfModel(blocks, f.type, name));
      foreignKeys.push({
        model,
        table,
        name: named(fkColumns, "fkey", stringArg(relation, "map")),
        columns: fkColumns,
        referencedTable: target,
        referencedColumns: targetColumns,
        onDelete: REFERENTIAL[onDelete] ?? onDelete,
        onUpdate: REFERENTIAL[onUpdate] ?? onUpdate,
      });
    }
    for (const args of allCalls(body, "@@id")) {
      const cols = listArg(args).map(col);
      indexes.push({ model, table, name: "PRIMARY", columns: cols, unique: true, primary: true });
    }
    for (const [attribute, suffix, unique] of [["@@unique", "key", true], ["@@index", "idx", false]] as const) {
      for (const args of allCalls(body, attribute)) {
        const cols = (listArg(args).length ? listArg(args) : listArg(args, "fields")).map(col);
        indexes.push({ model, table, name: named(cols, suffix, stringArg(args, "map")), columns: cols, unique, primary: false });
      }
    }
  }
  return { tables, columns, indexes, foreignKeys };
}

function stringArgBare(args: string, key: string): string | undefined {
  return new RegExp(`${key}\\s*:\\s*(\\w+)`).exec(args)?.[1];
}

function columnOfModel(blocks: { model: string; body: string }[], model: string, field: string): string {
  const body = blocks.find((b) => b.model === model)?.body ?? "";
  const f = fieldsOf(body).find((x) => x.name === field);
  return (f && /@map\("([^"]+)"\)/.exec(f.attrs)?.[1]) ?? field;
}

type Rows<T> = [T[]];

/** Every difference between the schema's models and the database, in words; empty when they agree. */
export async function findDrift(conn: Connection, database: string, schemaText: string): Promise<string[]> {
  const schema = parseSchema(schemaText);
  const problems: string[] = [];

  // Tables
  const [tableRows] = (await conn.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> '_prisma_migrations'", [database])) as unknown as Rows<{ t: string }>;
  const actualTables = new Set(tableRows.map((r) => r.t));
  for (const [model, table] of schema.tables) if (!actualTables.has(table)) problems.push(`${model}: table ${table} is missing from the migrations`);
  const expectedTables = new Set(schema.tables.values());
  for (const table of actualTables) if (!expectedTables.has(table)) problems.push(`${table}: the database has a table schema.prisma does not`);

  // Columns
  const [rows] = (await conn.query(
    `SELECT col.TABLE_NAME AS t, col.COLUMN_NAME AS c, col.COLUMN_TYPE AS type, col.DATA_TYPE AS dataType, col.IS_NULLABLE AS nullable,
            col.COLUMN_DEFAULT AS def, col.EXTRA AS extra, chk.CHECK_CLAUSE AS json_check
     FROM information_schema.COLUMNS col
     LEFT JOIN information_schema.CHECK_CONSTRAINTS chk ON chk.CONSTRAINT_SCHEMA = col.TABLE_SCHEMA AND chk.TABLE_NAME = col.TABLE_NAME AND chk.CONSTRAINT_NAME = col.COLUMN_NAME
     WHERE col.TABLE_SCHEMA = ? AND col.TABLE_NAME <> '_prisma_migrations'`,
    [database],
  )) as unknown as Rows<{ t: string; c: string; type: string; dataType: string; nullable: string; def: string | null; extra: string; json_check: string | null }>;
  const actual = new Map(rows.filter((r) => expectedTables.has(r.t)).map((r) => [`${r.t}.${r.c}`, r]));
  for (const e of schema.columns) {
    if (!actualTables.has(e.table)) continue; // reported above
    const key = `${e.table}.${e.column}`;
    const a = actual.get(key);
    if (!a) {
      problems.push(`${e.model}.${e.field}: column ${key} is missing from the migrations`);
      continue;
    }
    actual.delete(key);
    // MariaDB shows JSON as longtext with a json_valid check; int display widths vary by server.
    const got = e.type === "json" && (a.json_check?.includes("json_valid") || a.dataType === "json") ? "json" : a.type.toLowerCase().replace(/^(smallint|mediumint|int|bigint)\(\d+\)/, "$1");
    if (got !== e.type) problems.push(`${key}: schema.prisma says ${e.type}, the database has ${a.type}`);
    if ((a.nullable === "YES") !== e.nullable) problems.push(`${key}: nullability differs (schema.prisma: ${e.nullable ? "optional" : "required"}, database: ${a.nullable === "YES" ? "NULL" : "NOT NULL"})`);
    if (e.autoincrement !== /auto_increment/i.test(a.extra)) problems.push(`${key}: AUTO_INCREMENT differs (schema.prisma: ${e.autoincrement ? "autoincrement()" : "none"})`);
    const dbDefault = a.def === null || a.def === "NULL" ? undefined : a.def;
    const defaultOk =
      e.default === undefined
        ? dbDefault === undefined
        : e.default === "now"
          ? /^current_timestamp/i.test(dbDefault ?? "")
          : dbDefault !== undefined && dbDefault.replace(/^'(.*)'$/, "$1") === e.default;
    if (!defaultOk) problems.push(`${key}: default differs (schema.prisma: ${e.default ?? "none"}, database: ${dbDefault ?? "none"})`);
  }
  for (const key of actual.keys()) problems.push(`${key}: the database has a column schema.prisma does not`);

  // Indexes (primary keys, @unique/@@unique, @@index)
  const [indexRows] = (await conn.query(
    `SELECT TABLE_NAME AS t, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS cols
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE`,
    [database],
  )) as unknown as Rows<{ t: string; name: string; nonUnique: number | string; cols: string }>;
  const actualIndexes = new Map(indexRows.filter((r) => expectedTables.has(r.t)).map((r) => [`${r.t}.${r.name}`, r]));
  for (const e of schema.indexes) {
    if (!actualTables.has(e.table)) continue;
    const key = `${e.table}.${e.name}`;
    const a = actualIndexes.get(key);
    const what = e.primary ? "primary key" : e.unique ? "unique index" : "index";
    if (!a) {
      problems.push(`${e.model}: ${what} ${key} (${e.columns.join(", ")}) is missing from the migrations`);
      continue;
    }
    actualIndexes.delete(key);
    if (a.cols !== e.columns.join(",")) problems.push(`${key}: columns differ (schema.prisma: ${e.columns.join(", ")}, database: ${a.cols.split(",").join(", ")})`);
    if ((Number(a.nonUnique) === 0) !== e.unique) problems.push(`${key}: uniqueness differs (schema.prisma: ${e.unique ? "unique" : "not unique"})`);
  }
  // InnoDB adds an index named after a foreign key when no other index starts with its columns.
  const fkNames = new Set(schema.foreignKeys.map((f) => `${f.table}.${f.name}`));
  for (const key of actualIndexes.keys()) if (!fkNames.has(key)) problems.push(`${key}: the database has an index schema.prisma does not`);

  // Foreign keys
  const [fkRows] = (await conn.query(
    `SELECT rc.TABLE_NAME AS t, rc.CONSTRAINT_NAME AS name, rc.REFERENCED_TABLE_NAME AS refTable, rc.DELETE_RULE AS onDelete, rc.UPDATE_RULE AS onUpdate,
            GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION) AS cols, GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION) AS refCols
     FROM information_schema.REFERENTIAL_CONSTRAINTS rc
     JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = rc.TABLE_NAME AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME
     WHERE rc.CONSTRAINT_SCHEMA = ?
     GROUP BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, rc.REFERENCED_TABLE_NAME, rc.DELETE_RULE, rc.UPDATE_RULE`,
    [database],
  )) as unknown as Rows<{ t: string; name: string; refTable: string; onDelete: string; onUpdate: string; cols: string; refCols: string }>;
  const actualFks = new Map(fkRows.filter((r) => expectedTables.has(r.t)).map((r) => [`${r.t}.${r.name}`, r]));
  for (const e of schema.foreignKeys) {
    if (!actualTables.has(e.table)) continue;
    const key = `${e.table}.${e.name}`;
    const a = actualFks.get(key);
    const describe = (cols: string, refTable: string, refCols: string, onDelete: string, onUpdate: string) =>
      `(${cols}) REFERENCES ${refTable}(${refCols}) ON DELETE ${onDelete} ON UPDATE ${onUpdate}`;
    const want = describe(e.columns.join(","), e.referencedTable, e.referencedColumns.join(","), e.onDelete, e.onUpdate);
    if (!a) {
      problems.push(`${e.model}: foreign key ${key} ${want} is missing from the migrations`);
      continue;
    }
    actualFks.delete(key);
    const got = describe(a.cols, a.refTable, a.refCols, a.onDelete, a.onUpdate);
    if (got !== want) problems.push(`${key}: schema.prisma says ${want}, the database has ${got}`);
  }
  for (const key of actualFks.keys()) problems.push(`${key}: the database has a foreign key schema.prisma does not`);
  return problems;
}
