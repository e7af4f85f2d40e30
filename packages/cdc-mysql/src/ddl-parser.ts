// The source's DDL, understood: statements from binlog query events parsed
// into typed schema changes. Column definitions go through node-sql-parser's
// MariaDB grammar; the parts that grammar does not know (MariaDB's ALTER ONLINE /
// IGNORE, IF [NOT] EXISTS on DROP/MODIFY/CHANGE, ADD (a, b), WAIT n, executable
// comments, multi-table RENAME/DROP) are read from a small tokenizer first, so a
// statement is never dropped because one clause of it is unusual. Changes that do
// not alter a table's shape (indexes, defaults, engine options) come back as
// `ignored` with the reason; a clause on a known table that cannot be read at all
// comes back as `unknown`, so the job can record it and, if its behavior says so, stop.
import sqlParser from "node-sql-parser";

export type ColumnPosition = { first: true } | { after: string };

export type SchemaChange =
  | { kind: "add_column"; database: string; table: string; column: ColumnDefinition; position?: ColumnPosition }
  | { kind: "drop_column"; database: string; table: string; column: string }
  | { kind: "rename_column"; database: string; table: string; from: string; to: string }
  | { kind: "modify_column"; database: string; table: string; column: string; newName?: string; definition: ColumnDefinition; position?: ColumnPosition }
  | { kind: "rename_table"; database: string; table: string; toDatabase: string; toTable: string }
  | { kind: "truncate_table"; database: string; table: string }
  | {
      kind: "create_table";
      database: string;
      table: string;
      /** The columns as written (absent for CREATE ... LIKE and when they could not be read). */
      columns?: ColumnDefinition[];
      primaryKey?: string[];
      like?: { database: string; table: string };
    }
  | { kind: "drop_table"; database: string; table: string }
  | { kind: "ignored"; database: string; table: string; reason: string }
  /** A statement (or one clause of it) on this table that could not be understood. */
  | { kind: "unknown"; database: string; table: string; reason: string };

export type SchemaChangeKind = SchemaChange["kind"];

export interface ColumnDefinition {
  name: string;
  /** As information_schema.COLUMN_TYPE would show it, e.g. `varchar(20)`, `bigint unsigned`, `decimal(12,2)`, `enum('a','b')`. */
  mysqlType: string;
  nullable: boolean;
  /** The DEFAULT literal's value (unquoted), if any; absent for DEFAULT NULL and expressions. */
  defaultValue?: string;
}

const parser = new sqlParser.Parser();

type TableName = { database: string; table: string };

/** Parses one DDL statement; `defaultDatabase` is the query event's session database. Returns [] for statements that are not about tables. */
export function parseDdl(statement: string, defaultDatabase: string): SchemaChange[] {
  let sql: string;
  let tokens: Token[];
  try {
    sql = stripComments(statement).trim().replace(/;\s*$/, "");
    tokens = tokenize(sql);
  } catch (error) {
    // Unbalanced quotes: find at least the table so the job can say it did not understand.
    const table = looseTableName(statement, defaultDatabase);
    return table ? [{ kind: "unknown", ...table, reason: `not understood: ${(error as Error).message}` }] : [];
  }
  const verb = tokens[0]?.type === "word" ? tokens[0].upper : "";
  const s = new Statement(sql, tokens, defaultDatabase);
  switch (verb) {
    case "ALTER":
      return parseAlter(s);
    case "CREATE":
      return parseCreate(s);
    case "DROP":
      return parseDrop(s);
    case "RENAME":
      return parseRename(s);
    case "TRUNCATE":
      return parseTruncate(s);
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------
// Comments and tokens

/**
 * Removes `/* ... *\/`, `-- ...` and `# ...` comments; MySQL's executable comments
 * (`/*!50100 ... *\/`, MariaDB's `/*M!100100 ... *\/`) keep their content, as the server ran it.
 */
export function stripComments(sql: string): string {
  let out = "";
  let i = 0;
  let executable = false;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === "`") {
      const end = quotedEnd(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === "/" && sql[i + 1] === "*") {
      const marker = /^\/\*M?!(\d{5,6})?/.exec(sql.slice(i, i + 12));
      if (marker) {
        executable = true;
        i += marker[0].length;
      } else {
        const close = sql.indexOf("*/", i + 2);
        i = close < 0 ? sql.length : close + 2;
      }
      out += " ";
    } else if (executable && ch === "*" && sql[i + 1] === "/") {
      executable = false;
      i += 2;
      out += " ";
    } else if (ch === "#" || (ch === "-" && sql[i + 1] === "-" && (i + 2 >= sql.length || /\s/.test(sql[i + 2]!)))) {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
      out += " ";
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index just past the quoted string or identifier starting at `start` (backslash escapes in strings, doubled quotes in all). */
function quotedEnd(sql: string, start: number): number {
  const q = sql[start]!;
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "\\" && q !== "`") i += 2;
    else if (ch === q && sql[i + 1] === q) i += 2;
    else if (ch === q) return i + 1;
    else i++;
  }
  throw new Error(`unterminated ${q === "`" ? "identifier" : "string"} at character ${start + 1}`);
}

interface Token {
  /** word: keyword or bare identifier; ident: `backquoted`; string: '...' or "..."; number; punct: one character. */
  type: "word" | "ident" | "string" | "number" | "punct";
  /** Unquoted, unescaped. */
  value: string;
  upper: string;
  start: number;
  end: number;
}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (type: Token["type"], value: string, start: number, end: number) => tokens.push({ type, value, upper: value.toUpperCase(), start, end });
  while (i < sql.length) {
    const ch = sql[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "`") {
      const end = quotedEnd(sql, i);
      push("ident", sql.slice(i + 1, end - 1).replace(/``/g, "`"), i, end);
      i = end;
    } else if (ch === "'" || ch === '"') {
      const end = quotedEnd(sql, i);
      push("string", unescapeString(sql.slice(i + 1, end - 1), ch), i, end);
      i = end;
    } else if (/[0-9]/.test(ch) && /^\d+(\.\d+)?(e[+-]?\d+)?(?![A-Za-z_$\u0080-\uffff])/i.test(sql.slice(i))) {
      const m = /^\d+(\.\d+)?(e[+-]?\d+)?/i.exec(sql.slice(i))!;
      push("number", m[0], i, i + m[0].length);
      i += m[0].length;
    } else if (WORD.test(ch)) {
      let j = i;
      while (j < sql.length && WORD.test(sql[j]!)) j++;
      push("word", sql.slice(i, j), i, j);
      i = j;
    } else {
      push("punct", ch, i, i + 1);
      i++;
    }
  }
  return tokens;
}

/** A string literal's value: doubled quotes and MySQL's backslash escapes undone. */
function unescapeString(body: string, quote: string): string {
  const escapes: Record<string, string> = { "0": "\0", b: "\b", n: "\n", r: "\r", t: "\t", Z: "\x1a" };
  return body
    .replace(new RegExp(quote + quote, "g"), quote)
    .replace(/\\(.)/gs, (_, c: string) => escapes[c] ?? (c === "%" || c === "_" ? `\\${c}` : c));
}

/** The tokens of one statement, with a cursor. */
class Statement {
  i = 0;
  constructor(
    readonly sql: string,
    readonly tokens: Token[],
    readonly defaultDatabase: string,
  ) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  /** Consumes the words given, in order, if they are next; true if it did. */
  accept(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (!isWord(this.peek(k), words[k]!)) return false;
    this.i += words.length;
    return true;
  }
  punct(p: string): boolean {
    if (this.peek()?.type === "punct" && this.peek()!.value === p) {
      this.i++;
      return true;
    }
    return false;
  }
  /** `name` or `db.name` (bare, backquoted or double-quoted). */
  name(): TableName | undefined {
    const first = this.peek();
    if (!isName(first)) return undefined;
    if (this.peek(1)?.value === "." && this.peek(1)?.type === "punct" && isName(this.peek(2))) {
      this.i += 3;
      return { database: first.value, table: this.tokens[this.i - 1]!.value };
    }
    this.i++;
    return { database: this.defaultDatabase, table: first.value };
  }
  /** MariaDB's `WAIT n` / `NOWAIT` lock timeouts. */
  skipWait(): void {
    if (isWord(this.peek(), "WAIT") && this.peek(1)?.type === "number") this.i += 2;
    else this.accept("NOWAIT");
  }
  get done(): boolean {
    return this.i >= this.tokens.length;
  }
  rest(): Token[] {
    return this.tokens.slice(this.i);
  }
}

function isWord(t: Token | undefined, word: string): boolean {
  return t?.type === "word" && t.upper === word;
}

function isName(t: Token | undefined): t is Token {
  return t !== undefined && (t.type === "word" || t.type === "ident" || (t.type === "string" && t.value.length > 0));
}

/** Splits tokens at top-level commas (not inside parentheses). */
function splitTopLevel(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.type === "punct" && t.value === "(") depth++;
    if (t.type === "punct" && t.value === ")") depth--;
    if (depth === 0 && t.type === "punct" && t.value === ",") parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  return parts.filter((p) => p.length > 0);
}

function textOf(sql: string, tokens: Token[]): string {
  return tokens.length === 0 ? "" : sql.slice(tokens[0]!.start, tokens[tokens.length - 1]!.end);
}

/** Last resort when even the tokens cannot be read: the name after ALTER/DROP/TRUNCATE/RENAME ... TABLE. */
function looseTableName(sql: string, defaultDatabase: string): TableName | undefined {
  const id = "(`(?:[^`]|``)+`|[A-Za-z0-9_$\\u0080-\\uffff]+)";
  const m = new RegExp(`\\b(?:ALTER|CREATE|DROP|RENAME|TRUNCATE)\\b[^\`]*?\\bTABLES?\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?${id}(?:\\s*\\.\\s*${id})?`, "i").exec(sql);
  if (!m) return undefined;
  const unquote = (s: string) => (s.startsWith("`") ? s.slice(1, -1).replace(/``/g, "`") : s);
  return m[2] ? { database: unquote(m[1]!), table: unquote(m[2]) } : { database: defaultDatabase, table: unquote(m[1]!) };
}

// ---------------------------------------------------------------------------
// Statements

function parseAlter(s: Statement): SchemaChange[] {
  s.i = 1;
  while (s.accept("ONLINE") || s.accept("OFFLINE") || s.accept("IGNORE"));
  if (!s.accept("TABLE")) return []; // ALTER DATABASE, VIEW, USER, EVENT, SEQUENCE ...
  s.accept("IF", "EXISTS");
  const table = s.name();
  if (!table) return [];
  s.skipWait();
  const changes = splitTopLevel(s.rest()).flatMap((clause) => alterClause(s.sql, clause, table));
  const shape = changes.filter((c) => c.kind !== "ignored");
  if (shape.length > 0) {
    // MySQL renames the table after the other clauses, which name it by its old name.
    return [...shape.filter((c) => c.kind !== "rename_table"), ...shape.filter((c) => c.kind === "rename_table")];
  }
  const reasons = [...new Set(changes.map((c) => (c as { reason: string }).reason))];
  return [{ kind: "ignored", ...table, reason: reasons.join("; ") || "the statement does not change the table's columns" }];
}

/** Leading words of ALTER TABLE clauses that never change the columns. */
const OPTION_WORDS = new Set(
  (
    "ALGORITHM LOCK FORCE ENGINE AUTO_INCREMENT AVG_ROW_LENGTH CHECKSUM PAGE_CHECKSUM COMMENT COMPRESSION CONNECTION DATA INDEX " +
    "DELAY_KEY_WRITE ENCRYPTED ENCRYPTION ENCRYPTION_KEY_ID IETF_QUOTES INSERT_METHOD KEY_BLOCK_SIZE MAX_ROWS MIN_ROWS PACK_KEYS " +
    "PAGE_COMPRESSED PAGE_COMPRESSION_LEVEL PASSWORD ROW_FORMAT SEQUENCE STATS_AUTO_RECALC STATS_PERSISTENT STATS_SAMPLE_PAGES " +
    "TABLESPACE TRANSACTIONAL UNION DEFAULT CHARACTER CHARSET COLLATE CONVERT ORDER PARTITION PARTITIONS SUBPARTITION REMOVE " +
    "ENABLE DISABLE COALESCE REORGANIZE ANALYZE CHECK OPTIMIZE REBUILD REPAIR DISCARD IMPORT WITH WITHOUT UPGRADE STORAGE"
  ).split(" "),
);

/** Whether the clause's tokens from `k` name an index, key or constraint (ADD/DROP/CREATE TABLE), not a column. */
function isNonColumnObject(tokens: Token[], k: number): boolean {
  const t = tokens[k];
  if (t?.type !== "word") return false;
  const next = tokens[k + 1];
  switch (t.upper) {
    case "INDEX":
    case "KEY":
    case "UNIQUE":
    case "FULLTEXT":
    case "SPATIAL":
    case "PRIMARY":
    case "FOREIGN":
    case "CONSTRAINT":
    case "CHECK":
      return true; // reserved words: a column of that name would be backquoted
    case "PERIOD":
      return isWord(next, "FOR");
    case "SYSTEM":
      return isWord(next, "VERSIONING");
    case "VECTOR":
      return isWord(next, "INDEX") || isWord(next, "KEY");
    default:
      return false;
  }
}

function objectName(t: Token): string {
  const names: Record<string, string> = { PRIMARY: "PRIMARY KEY (the warehouse table keeps its key)", FOREIGN: "FOREIGN KEY", PERIOD: "PERIOD", SYSTEM: "SYSTEM VERSIONING" };
  return names[t.upper] ?? t.upper;
}

function alterClause(sql: string, tokens: Token[], table: TableName): SchemaChange[] {
  const c = new Statement(sql, tokens, table.database);
  const text = textOf(sql, tokens);
  const ignored = (reason: string): SchemaChange => ({ kind: "ignored", ...table, reason });
  const unknown = (reason: string): SchemaChange => ({ kind: "unknown", ...table, reason: `not understood: ${reason}` });
  const first = c.peek()!;
  if (first.type !== "word") return [unknown(`"${text}"`)];

  if (c.accept("ADD")) {
    if (isWord(c.peek(), "PARTITION")) return [ignored("ADD PARTITION does not change the table's columns")];
    if (isNonColumnObject(c.tokens, c.i)) return [ignored(`ADD ${objectName(c.peek()!)} does not change the table's columns`)];
    c.accept("COLUMN");
    c.accept("IF", "NOT", "EXISTS");
    if (c.peek()?.type === "punct" && c.peek()!.value === "(") {
      // ADD [COLUMN] (a INT, b INT): one add per column, none positioned.
      return splitTopLevel(group(c.tokens, c.i)).map((def) => columnClause("ADD COLUMN", textOf(sql, def), def, table));
    }
    return [columnClause("ADD COLUMN", textOf(sql, c.rest()), c.rest(), table)];
  }
  if (c.accept("DROP")) {
    const what = c.peek();
    if (isWord(what, "PARTITION")) return [unknown("DROP PARTITION removes rows without row events; re-snapshot the table")];
    if (isNonColumnObject(c.tokens, c.i)) return [ignored(`DROP ${objectName(what!)} does not change the table's columns`)];
    c.accept("COLUMN");
    c.accept("IF", "EXISTS");
    const column = c.peek();
    if (!isName(column)) return [unknown(`"${text}"`)];
    c.i++;
    while (c.accept("RESTRICT") || c.accept("CASCADE"));
    return c.done ? [{ kind: "drop_column", ...table, column: column.value }] : [unknown(`"${text}"`)];
  }
  if (c.accept("MODIFY") || c.accept("CHANGE")) {
    const verb = first.upper === "MODIFY" ? "MODIFY COLUMN" : "CHANGE COLUMN";
    c.accept("COLUMN");
    c.accept("IF", "EXISTS");
    return [columnClause(verb, textOf(sql, c.rest()), c.rest(), table)];
  }
  if (c.accept("RENAME")) {
    if (c.accept("COLUMN")) {
      c.accept("IF", "EXISTS");
      const from = c.peek();
      const to = c.peek(2);
      if (isName(from) && isWord(c.peek(1), "TO") && isName(to) && c.tokens.length === c.i + 3) return [{ kind: "rename_column", ...table, from: from.value, to: to.value }];
      return [unknown(`"${text}"`)];
    }
    if (c.accept("INDEX") || c.accept("KEY")) return [ignored("RENAME INDEX does not change the table's columns")];
    if (!c.accept("TO")) c.accept("AS");
    const target = c.name();
    if (target && c.done) return [{ kind: "rename_table", ...table, toDatabase: target.database, toTable: target.table }];
    return [unknown(`"${text}"`)];
  }
  if (c.accept("ALTER")) {
    if (c.accept("INDEX") || c.accept("KEY") || c.accept("CHECK") || c.accept("CONSTRAINT")) return [ignored("ALTER INDEX/CONSTRAINT does not change the table's columns")];
    c.accept("COLUMN");
    c.accept("IF", "EXISTS");
    const column = c.peek();
    if (isName(column) && (isWord(c.peek(1), "SET") || isWord(c.peek(1), "DROP"))) {
      return [ignored(`ALTER COLUMN ${column.value} ${textOf(sql, c.tokens.slice(c.i + 1))}: only the default or visibility changes, not the column's type`)];
    }
    return [unknown(`"${text}"`)];
  }
  if (c.accept("TRUNCATE") || c.accept("EXCHANGE")) {
    if (isWord(c.peek(), "PARTITION")) return [unknown(`${first.upper} PARTITION changes rows without row events; re-snapshot the table`)];
  }
  if (OPTION_WORDS.has(first.upper)) return [ignored(`${text.length > 60 ? `${text.slice(0, 57)}...` : text} does not change the table's columns`)];
  return [unknown(`"${text}"`)];
}

/**
 * ADD COLUMN / MODIFY COLUMN / CHANGE COLUMN with its definition: node-sql-parser reads it
 * (with MariaDB's CHARSET spelled as the grammar wants); what it rejects is read from the tokens.
 */
function columnClause(verb: "ADD COLUMN" | "MODIFY COLUMN" | "CHANGE COLUMN", text: string, tokens: Token[], table: TableName): SchemaChange {
  const normalized = respell(text, tokens);
  try {
    const ast = parser.astify(`ALTER TABLE _t ${verb} ${normalized}`, { database: "MariaDB" }) as unknown as Record<string, unknown>;
    const exprs = (Array.isArray(ast) ? ast[0] : ast)?.expr as Record<string, unknown>[] | undefined;
    if (exprs?.length === 1) {
      const change = fromAlter(exprs[0]!, table);
      if (change) return change;
    }
  } catch {
    // Falls through to the tokens.
  }
  const change = columnFromTokens(verb, tokens, table);
  return change ?? { kind: "unknown", ...table, reason: `not understood: "${verb.split(" ")[0]} ${text}"` };
}

/** CHARSET x → CHARACTER SET x (node-sql-parser knows only the long form inside a column definition). */
function respell(text: string, tokens: Token[]): string {
  const base = tokens[0]?.start ?? 0;
  let out = text;
  for (const t of [...tokens].reverse()) {
    if (t.type === "word" && t.upper === "CHARSET") out = out.slice(0, t.start - base) + "CHARACTER SET" + out.slice(t.end - base);
  }
  return out;
}

function fromAlter(e: Record<string, unknown>, table: TableName): SchemaChange | undefined {
  const action = String(e.action ?? "").toLowerCase();
  const resource = String(e.resource ?? "").toLowerCase();
  if (resource !== "column") return undefined;
  const position = positionOf(e);
  if (action === "add") {
    return { kind: "add_column", ...table, column: definitionOf(columnName(e.column), e), ...(position ? { position } : {}) };
  }
  if (action === "modify" || action === "change") {
    const name = columnName(e.old_column ?? e.column);
    const newName = columnName(e.column);
    return { kind: "modify_column", ...table, column: name, ...(newName !== name ? { newName } : {}), definition: definitionOf(newName, e), ...(position ? { position } : {}) };
  }
  return undefined;
}

function positionOf(e: Record<string, unknown>): ColumnPosition | undefined {
  const suffix = e.suffix as { keyword?: string; expr?: unknown } | null | undefined;
  const firstAfter = typeof e.first_after === "object" && e.first_after !== null ? (e.first_after as { keyword?: string; column?: unknown }) : undefined;
  const keyword = (suffix?.keyword ?? firstAfter?.keyword ?? "").toUpperCase();
  if (keyword === "FIRST") return { first: true };
  if (keyword === "AFTER") return { after: columnName(suffix?.expr ?? firstAfter?.column) };
  return undefined;
}

function columnName(value: unknown): string {
  const c = value as { column?: unknown } | string;
  if (typeof c === "string") return c;
  const column = c?.column;
  if (typeof column === "string") return column;
  if (column && typeof column === "object" && "expr" in column) return String((column as { expr: { value: unknown } }).expr.value);
  return String(column);
}

function definitionOf(name: string, e: Record<string, unknown>): ColumnDefinition {
  const d = (e.definition ?? {}) as { dataType?: string; length?: number; scale?: number; suffix?: unknown; expr?: { value?: { type?: string; value?: unknown }[] } };
  let type = canonicalType(String(d.dataType ?? "varchar"));
  if ((type === "enum" || type === "set") && Array.isArray(d.expr?.value)) {
    // The value list is part of the type (information_schema writes it as enum('a','b')).
    type += `(${d.expr.value.map((v) => quoteLiteral(v.type === "single_quote_string" ? unescapeString(String(v.value), "'") : unescapeString(String(v.value), '"'))).join(",")})`;
  } else if (d.length !== undefined && d.length !== null) {
    type += d.scale !== undefined && d.scale !== null ? `(${d.length},${d.scale})` : `(${d.length})`;
  }
  const suffix = JSON.stringify(d.suffix ?? []).toLowerCase();
  if (suffix.includes("unsigned")) type += " unsigned";
  const nullable = !JSON.stringify(e.nullable ?? "").toLowerCase().includes("not null");
  const dv = (e.default_val as { value?: { type?: string; value?: unknown } } | undefined)?.value;
  let defaultValue: string | undefined;
  if (dv?.type === "bool") defaultValue = dv.value ? "1" : "0"; // MySQL's TRUE is 1
  else if (dv && dv.type !== "null" && dv.type !== "bit_string" && dv.type !== "hex_string" && dv.value !== undefined && dv.value !== null && typeof dv.value !== "object") {
    defaultValue = dv.type === "single_quote_string" ? unescapeString(String(dv.value), "'") : dv.type === "double_quote_string" ? unescapeString(String(dv.value), '"') : String(dv.value);
  }
  return { name, mysqlType: type, nullable, ...(defaultValue !== undefined ? { defaultValue } : {}) };
}

/** Type names as information_schema.COLUMN_TYPE writes them (BOOL is tinyint(1), INTEGER is int, ...). */
function canonicalType(written: string): string {
  const t = written.toLowerCase().replace(/\s+/g, " ");
  const aliases: Record<string, string> = {
    bool: "tinyint(1)",
    boolean: "tinyint(1)",
    integer: "int",
    int4: "int",
    int8: "bigint",
    numeric: "decimal",
    dec: "decimal",
    fixed: "decimal",
    real: "double",
    "double precision": "double",
    "character varying": "varchar",
    character: "char",
  };
  return aliases[t] ?? t;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The fallback for definitions the grammar rejects (e.g. INVISIBLE, COMPRESSED, unusual
 * attributes): name, type with its arguments and modifiers, NOT NULL, DEFAULT literal, position.
 */
function columnFromTokens(verb: string, tokens: Token[], table: TableName): SchemaChange | undefined {
  const c = new Statement("", tokens, table.database);
  const oldName = c.peek();
  if (!isName(oldName)) return undefined;
  c.i++;
  let name = oldName.value;
  if (verb === "CHANGE COLUMN") {
    const n = c.peek();
    if (!isName(n)) return undefined;
    name = n.value;
    c.i++;
  }
  const typeWord = c.peek();
  if (typeWord?.type !== "word") return undefined;
  c.i++;
  let written = typeWord.value;
  if (c.accept("PRECISION") || c.accept("VARYING")) written += ` ${c.tokens[c.i - 1]!.value}`;
  let type = canonicalType(written);
  if (c.peek()?.value === "(" && c.peek()?.type === "punct") {
    const args: string[] = [];
    c.i++;
    while (!c.done && !(c.peek()!.type === "punct" && c.peek()!.value === ")")) {
      const t = c.peek()!;
      if (t.type === "string") args.push(quoteLiteral(t.value));
      else if (t.type === "number") args.push(t.value);
      else if (!(t.type === "punct" && t.value === ",")) return undefined;
      c.i++;
    }
    if (!c.punct(")")) return undefined;
    type += `(${args.join(",")})`;
  }
  while (isWord(c.peek(), "UNSIGNED") || isWord(c.peek(), "SIGNED") || isWord(c.peek(), "ZEROFILL")) {
    if (c.peek()!.upper === "UNSIGNED") type += " unsigned";
    c.i++;
  }
  let nullable = true;
  let defaultValue: string | undefined;
  let position: ColumnPosition | undefined;
  let depth = 0;
  for (; !c.done; c.i++) {
    const t = c.peek()!;
    if (t.type === "punct" && t.value === "(") depth++;
    if (t.type === "punct" && t.value === ")") depth--;
    if (depth > 0) continue;
    if (isWord(t, "NOT") && isWord(c.peek(1), "NULL")) nullable = false;
    else if (isWord(t, "PRIMARY") && isWord(c.peek(1), "KEY")) nullable = false;
    else if (isWord(t, "DEFAULT")) {
      const v = c.peek(1);
      const negative = v?.type === "punct" && v.value === "-" && c.peek(2)?.type === "number";
      if (negative) defaultValue = `-${c.peek(2)!.value}`;
      else if (isWord(v, "TRUE") || isWord(v, "FALSE")) defaultValue = v!.upper === "TRUE" ? "1" : "0";
      else if (v?.type === "string" || v?.type === "number") defaultValue = v.value;
    } else if (isWord(t, "FIRST")) position = { first: true };
    else if (isWord(t, "AFTER") && isName(c.peek(1))) position = { after: c.peek(1)!.value };
  }
  const definition: ColumnDefinition = { name, mysqlType: type, nullable, ...(defaultValue !== undefined ? { defaultValue } : {}) };
  if (verb === "ADD COLUMN") return { kind: "add_column", ...table, column: definition, ...(position ? { position } : {}) };
  return { kind: "modify_column", ...table, column: oldName.value, ...(name !== oldName.value ? { newName: name } : {}), definition, ...(position ? { position } : {}) };
}

function parseCreate(s: Statement): SchemaChange[] {
  s.i = 1;
  const replace = s.accept("OR", "REPLACE");
  if (s.accept("TEMPORARY")) return []; // session-local: never the followed table, even under the same name
  if (!s.accept("TABLE")) {
    // CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX i ON t (...): recorded for t, nothing to do.
    while (s.accept("UNIQUE") || s.accept("FULLTEXT") || s.accept("SPATIAL") || s.accept("ONLINE") || s.accept("OFFLINE"));
    if (!s.accept("INDEX")) return [];
    const on = s.tokens.findIndex((t, k) => k >= s.i && isWord(t, "ON"));
    if (on < 0) return [];
    s.i = on + 1;
    const table = s.name();
    return table ? [{ kind: "ignored", ...table, reason: "CREATE INDEX does not change the table's columns" }] : [];
  }
  s.accept("IF", "NOT", "EXISTS");
  const table = s.name();
  if (!table) return [];
  const dropFirst: SchemaChange[] = replace ? [{ kind: "drop_table", ...table }] : [];
  // CREATE TABLE t LIKE u, or CREATE TABLE t (LIKE u)
  if (s.accept("LIKE") || (s.peek()?.value === "(" && isWord(s.peek(1), "LIKE") && (s.i += 2))) {
    const like = s.name();
    return [...dropFirst, { kind: "create_table", ...table, ...(like ? { like } : {}) }];
  }
  if (!(s.peek()?.type === "punct" && s.peek()!.value === "(")) return [...dropFirst, { kind: "create_table", ...table }]; // CREATE TABLE t SELECT ...
  const parts = splitTopLevel(group(s.tokens, s.i));
  const columns: ColumnDefinition[] = [];
  let primaryKey: string[] | undefined;
  for (const part of parts) {
    const pk = part.findIndex((t, k) => isWord(t, "PRIMARY") && isWord(part[k + 1], "KEY"));
    if (isNonColumnObject(part, 0)) {
      const open = part.findIndex((t, k) => k > pk && t.type === "punct" && t.value === "(");
      // PRIMARY KEY (a, b(10)): the names inside the parentheses, not the prefix lengths.
      if (pk >= 0 && open >= 0) primaryKey = splitTopLevel(group(part, open)).map((key) => key[0]!).filter(isName).map((t) => t.value);
      continue;
    }
    const change = columnClause("ADD COLUMN", textOf(s.sql, part), part, table);
    if (change.kind !== "add_column") return [...dropFirst, { kind: "create_table", ...table }]; // shape not readable: recorded without columns
    columns.push(change.column);
    if (pk >= 0) primaryKey = [change.column.name];
  }
  if (primaryKey) for (const c of columns) if (primaryKey.includes(c.name)) c.nullable = false;
  return [...dropFirst, { kind: "create_table", ...table, columns, ...(primaryKey ? { primaryKey } : {}) }];
}

/** The tokens inside the parentheses that open at `open`. */
function group(tokens: Token[], open: number): Token[] {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.type === "punct" && t.value === "(") depth++;
    if (t.type === "punct" && t.value === ")" && --depth === 0) return tokens.slice(open + 1, k);
  }
  return tokens.slice(open + 1);
}

function parseDrop(s: Statement): SchemaChange[] {
  s.i = 1;
  if (s.accept("TEMPORARY")) return [];
  if (s.accept("INDEX") || s.accept("ONLINE", "INDEX") || s.accept("OFFLINE", "INDEX")) {
    // DROP INDEX [IF EXISTS] i ON t
    const on = s.tokens.findIndex((t, k) => k >= s.i && isWord(t, "ON"));
    if (on < 0) return [];
    s.i = on + 1;
    const table = s.name();
    return table ? [{ kind: "ignored", ...table, reason: "DROP INDEX does not change the table's columns" }] : [];
  }
  if (!s.accept("TABLE") && !s.accept("TABLES")) return []; // DROP DATABASE, VIEW, TRIGGER, ...
  s.accept("IF", "EXISTS");
  return nameList(s, "drop_table");
}

function parseTruncate(s: Statement): SchemaChange[] {
  s.i = 1;
  s.accept("TABLE");
  const table = s.name();
  if (!table) return [];
  s.skipWait();
  return s.done ? [{ kind: "truncate_table", ...table }] : [{ kind: "unknown", ...table, reason: `not understood: "${textOf(s.sql, s.rest())}"` }];
}

/** `a, b, c [WAIT n | NOWAIT] [RESTRICT | CASCADE]` → one change per table. */
function nameList(s: Statement, kind: "drop_table"): SchemaChange[] {
  const out: SchemaChange[] = [];
  for (;;) {
    const table = s.name();
    if (!table) break;
    out.push({ kind, ...table });
    if (!s.punct(",")) break;
  }
  s.skipWait();
  while (s.accept("RESTRICT") || s.accept("CASCADE"));
  if (!s.done) {
    const first = out[0] ?? looseTableName(s.sql, s.defaultDatabase);
    return first ? [{ kind: "unknown", database: first.database, table: first.table, reason: `not understood: "${textOf(s.sql, s.rest())}"` }, ...out.slice(1)] : [];
  }
  return out;
}

function parseRename(s: Statement): SchemaChange[] {
  s.i = 1;
  if (!s.accept("TABLE") && !s.accept("TABLES")) return []; // RENAME USER
  s.accept("IF", "EXISTS");
  const out: SchemaChange[] = [];
  for (;;) {
    const from = s.name();
    if (!from) break;
    s.skipWait();
    const to = s.accept("TO") ? s.name() : undefined;
    if (!to) {
      return [...out, { kind: "unknown", ...from, reason: `not understood: "${textOf(s.sql, s.tokens.slice(1))}"` }];
    }
    out.push({ kind: "rename_table", ...from, toDatabase: to.database, toTable: to.table });
    if (!s.punct(",")) break;
  }
  if (!s.done && out[0]) return [{ kind: "unknown", database: out[0].database, table: (out[0] as { table: string }).table, reason: `not understood: "${textOf(s.sql, s.rest())}"` }];
  return out;
}
