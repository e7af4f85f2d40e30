// Before → after column lists of one schema change, with added (green),
// removed (red, struck through) and renamed/changed (amber) columns marked.
export interface ColumnInfo {
  name: string;
  mysqlType: string;
  nullable: boolean;
}

type Mark = "same" | "added" | "removed" | "renamed" | "changed";

/** Renames the parsed change names: rename_column from→to, or CHANGE COLUMN with a new name. */
function renamesOf(parsed: unknown): Map<string, string> {
  const renames = new Map<string, string>();
  if (!parsed || typeof parsed !== "object") return renames;
  const p = parsed as { kind?: unknown; from?: unknown; to?: unknown; column?: unknown; newName?: unknown };
  if (p.kind === "rename_column" && typeof p.from === "string" && typeof p.to === "string" && p.from !== p.to) {
    renames.set(p.from, p.to);
  }
  if (p.kind === "modify_column" && typeof p.column === "string" && typeof p.newName === "string" && p.newName !== p.column) {
    renames.set(p.column, p.newName);
  }
  return renames;
}

const lower = (s: string) => s.toLowerCase();

function differs(a: ColumnInfo, b: ColumnInfo): boolean {
  return lower(a.mysqlType) !== lower(b.mysqlType) || a.nullable !== b.nullable;
}

export function diffColumns(
  before: ColumnInfo[],
  after: ColumnInfo[],
  parsed: unknown,
): { before: { col: ColumnInfo; mark: Mark; note?: string }[]; after: { col: ColumnInfo; mark: Mark; note?: string }[] } {
  const renames = new Map([...renamesOf(parsed)].map(([from, to]) => [lower(from), lower(to)]));
  const renamedTo = new Map([...renames].map(([from, to]) => [to, from]));
  const beforeByName = new Map(before.map((c) => [lower(c.name), c]));
  const afterByName = new Map(after.map((c) => [lower(c.name), c]));

  return {
    before: before.map((col) => {
      const key = lower(col.name);
      const to = renames.get(key);
      if (to !== undefined && afterByName.has(to)) return { col, mark: "renamed", note: `renamed to ${afterByName.get(to)!.name}` };
      const next = afterByName.get(key);
      if (!next) return { col, mark: "removed", note: "removed" };
      if (differs(col, next)) return { col, mark: "changed", note: "changed" };
      return { col, mark: "same" };
    }),
    after: after.map((col) => {
      const key = lower(col.name);
      const from = renamedTo.get(key);
      if (from !== undefined && beforeByName.has(from)) return { col, mark: "renamed", note: `renamed from ${beforeByName.get(from)!.name}` };
      const prev = beforeByName.get(key);
      if (!prev) return { col, mark: "added", note: "added" };
      if (differs(prev, col)) return { col, mark: "changed", note: `was ${prev.mysqlType}${prev.nullable ? "" : " not null"}` };
      return { col, mark: "same" };
    }),
  };
}

function ColumnList({ items, testId, title }: { items: { col: ColumnInfo; mark: Mark; note?: string }[]; testId: string; title: string }) {
  return (
    <div className="coldiff-side">
      <div className="coldiff-title">{title}</div>
      {items.length === 0 ? (
        <div className="coldiff-none muted small" data-testid={testId}>
          no columns
        </div>
      ) : (
        <ul className="coldiff-list" data-testid={testId}>
          {items.map(({ col, mark, note }) => (
            <li key={col.name} className={`coldiff-col mark-${mark}`} data-mark={mark} title={note}>
              <span className="coldiff-name">{col.name}</span>
              <span className="coldiff-type">
                {col.mysqlType}
                {col.nullable ? "" : " not null"}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ColumnDiff({ id, before, after, parsed }: { id: number; before: ColumnInfo[]; after: ColumnInfo[]; parsed: unknown }) {
  const diff = diffColumns(before, after, parsed);
  return (
    <div className="coldiff">
      <ColumnList items={diff.before} testId={`columns-before-${id}`} title="Before" />
      <div className="coldiff-arrow" aria-hidden>
        →
      </div>
      <ColumnList items={diff.after} testId={`columns-after-${id}`} title="After" />
    </div>
  );
}
