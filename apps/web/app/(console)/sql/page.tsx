"use client";
import { useState, type KeyboardEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { DataGrid } from "@/components/DataGrid";
import { formatNumber } from "@/lib/format";

const DEFAULT_SQL = "SELECT table_schema, table_name\nFROM information_schema.tables\nORDER BY 1, 2;";

export default function SqlPage() {
  const trpc = useTRPC();
  const [sql, setSql] = useState(DEFAULT_SQL);
  const run = useMutation(trpc.warehouse.query.mutationOptions());

  const execute = () => {
    if (!sql.trim() || run.isPending) return;
    run.mutate({ sql });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      execute();
    }
  };

  const result = run.data;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>SQL</h1>
          <p className="muted">Query the warehouse (DuckDB SQL). Ctrl/Cmd+Enter runs the query.</p>
        </div>
      </div>
      <div className="card">
        <textarea
          className="sql-editor"
          data-testid="sql-editor"
          spellCheck={false}
          value={sql}
          onChange={(e) => setSql(e.target.value)}
          onKeyDown={onKeyDown}
          rows={8}
        />
        <div className="card-foot">
          <span className="muted small">Results are limited; large results show the first rows only.</span>
          <span className="spacer" />
          <button className="btn btn-primary" data-testid="sql-run" onClick={execute} disabled={run.isPending || !sql.trim()}>
            {run.isPending ? "Running…" : "▶ Run"}
          </button>
        </div>
      </div>

      {run.isError && (
        <div className="alert alert-error" data-testid="sql-error" role="alert">
          {run.error.message}
        </div>
      )}
      {result && !run.isError && (
        <div className="card no-pad">
          <div className="card-head">
            <h2>Result</h2>
            <span className="muted small" data-testid="sql-elapsed">
              {formatNumber(result.rowCount)} {result.rowCount === 1 ? "row" : "rows"} in {Math.round(result.elapsedMs)} ms
              {result.truncated ? ` (showing first ${formatNumber(result.rows.length)})` : ""}
            </span>
          </div>
          <DataGrid columns={result.columns} rows={result.rows} testId="sql-result" />
        </div>
      )}
    </div>
  );
}
