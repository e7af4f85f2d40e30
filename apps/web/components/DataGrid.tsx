import { formatCell } from "@/lib/format";

export interface GridColumn {
  name: string;
  type: string;
}

export function DataGrid({ columns, rows, testId }: { columns: GridColumn[]; rows: unknown[][]; testId?: string }) {
  return (
    <div className="grid-wrap" data-testid={testId}>
      <table className="grid">
        <thead>
          <tr>
            <th className="rownum">#</th>
            {columns.map((c, i) => (
              <th key={`${c.name}-${i}`} title={c.type}>
                <div>{c.name}</div>
                <div className="coltype">{c.type}</div>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td className="empty-cell" colSpan={columns.length + 1}>
                No rows
              </td>
            </tr>
          ) : (
            rows.map((row, r) => (
              <tr key={r}>
                <td className="rownum">{r + 1}</td>
                {columns.map((_, i) => {
                  const v = row[i];
                  return (
                    <td key={i} className={v === null || v === undefined ? "null" : typeof v === "number" ? "num" : undefined}>
                      {formatCell(v)}
                    </td>
                  );
                })}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
