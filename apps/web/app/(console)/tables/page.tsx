"use client";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { DataGrid } from "@/components/DataGrid";
import { formatNumber } from "@/lib/format";

export default function TablesPage() {
  const trpc = useTRPC();
  const tables = useQuery(trpc.warehouse.tables.queryOptions(undefined, { refetchInterval: 5_000 }));
  const [current, setCurrent] = useState<{ schema: string; table: string } | null>(null);
  const preview = useQuery(
    trpc.warehouse.preview.queryOptions(
      { schema: current?.schema ?? "", table: current?.table ?? "", limit: 100 },
      { enabled: current !== null },
    ),
  );

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Warehouse tables</h1>
          <p className="muted">Tables the sync jobs maintain in the embedded warehouse. Click one to preview its rows.</p>
        </div>
      </div>
      {tables.isError && <div className="alert alert-error">{tables.error.message}</div>}
      {tables.isPending && <div className="muted">Loading tables…</div>}
      {tables.data && tables.data.length === 0 && (
        <div className="empty" data-testid="tables-empty">
          <div className="empty-title">The warehouse is empty</div>
          <p>Tables appear here once a job has copied them.</p>
        </div>
      )}
      {tables.data && tables.data.length > 0 && (
        <div className="card no-pad">
          <table className="table" data-testid="warehouse-tables">
            <thead>
              <tr>
                <th>Table</th>
                <th className="num">Rows</th>
                <th>Columns</th>
              </tr>
            </thead>
            <tbody>
              {tables.data.map((t) => {
                const key = `${t.schema}.${t.table}`;
                const active = current?.schema === t.schema && current.table === t.table;
                return (
                  <tr
                    key={key}
                    className={`clickable ${active ? "selected" : ""}`}
                    data-testid={`warehouse-table-${key}`}
                    onClick={() => setCurrent({ schema: t.schema, table: t.table })}
                  >
                    <td className="mono">
                      <button className="linkish" onClick={() => setCurrent({ schema: t.schema, table: t.table })}>
                        {key}
                      </button>
                    </td>
                    <td className="num">{formatNumber(t.rowCount)}</td>
                    <td className="small cols-cell">
                      {t.columns.map((c) => (
                        <span key={c.name} className="col-chip" title={c.type}>
                          {c.name} <span className="muted">{c.type}</span>
                        </span>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {current && (
        <div className="card no-pad">
          <div className="card-head">
            <h2 className="mono">
              {current.schema}.{current.table}
            </h2>
            {preview.data && (
              <span className="muted small">
                first {formatNumber(preview.data.rows.length)} rows · {Math.round(preview.data.elapsedMs)} ms
              </span>
            )}
          </div>
          {preview.isPending && <div className="muted pad">Loading preview…</div>}
          {preview.isError && <div className="alert alert-error">{preview.error.message}</div>}
          {preview.data && <DataGrid columns={preview.data.columns} rows={preview.data.rows} testId="table-preview" />}
        </div>
      )}
    </div>
  );
}
