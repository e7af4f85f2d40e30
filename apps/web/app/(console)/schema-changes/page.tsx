"use client";
import { Suspense, useEffect, useMemo, useState } from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { SCHEMA_CHANGE_KINDS } from "@tide/contracts";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { ColumnDiff } from "@/components/ColumnDiff";
import { formatTime } from "@/lib/format";

type SchemaChange = RouterOutputs["jobs"]["schemaChanges"][number];
type Outcome = SchemaChange["outcome"];

// The parser's kinds (packages/cdc-mysql/src/ddl-parser.ts): the shape changes, `ignored` (no shape
// change) and `unknown` (not understood, recorded as failed), as the CLI's --kind accepts them.
const KINDS: readonly string[] = [...SCHEMA_CHANGE_KINDS, "ignored", "unknown"];
const OUTCOMES: Outcome[] = ["applied", "ignored", "failed"];
const OUTCOME_TONES: Record<Outcome, string> = { applied: "good", ignored: "muted", failed: "bad" };
const KIND_TONES: Record<string, string> = {
  add_column: "info",
  drop_column: "warn",
  rename_column: "info",
  modify_column: "info",
  rename_table: "info",
  truncate_table: "warn",
  create_table: "info",
  drop_table: "warn",
  ignored: "muted",
  unknown: "bad",
};
const FULL_TABLE = /^[^.\s]+\.[^.\s]+$/;

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export default function SchemaChangesPage() {
  return (
    <Suspense fallback={<div className="muted">Loading schema changes…</div>}>
      <SchemaChanges />
    </Suspense>
  );
}

function SchemaChanges() {
  const trpc = useTRPC();
  const params = useSearchParams();
  const [jobId, setJobId] = useState<string>(() => (/^\d+$/.test(params.get("job") ?? "") ? params.get("job")! : ""));
  const [table, setTable] = useState<string>(() => params.get("table") ?? "");
  const [kind, setKind] = useState<string>(() => params.get("kind") ?? "");
  const [outcome, setOutcome] = useState<string>(() => params.get("outcome") ?? "");

  // Keep the address in step with the filters, so a filtered view can be shared.
  useEffect(() => {
    const next = new URLSearchParams();
    if (jobId) next.set("job", jobId);
    if (table.trim()) next.set("table", table.trim());
    if (kind) next.set("kind", kind);
    if (outcome) next.set("outcome", outcome);
    const query = next.toString();
    const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
    if (url !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, "", url);
  }, [jobId, table, kind, outcome]);

  const tableFilter = table.trim();
  const jobs = useQuery(trpc.jobs.list.queryOptions(undefined, { staleTime: 10_000 }));
  const changes = useQuery(
    trpc.jobs.schemaChanges.queryOptions(
      {
        id: jobId ? Number(jobId) : undefined,
        // The API matches whole db.table names; anything shorter is matched here.
        table: FULL_TABLE.test(tableFilter) ? tableFilter : undefined,
        kind: kind || undefined,
        outcome: OUTCOMES.includes(outcome as Outcome) ? (outcome as Outcome) : undefined,
        limit: 200,
      },
      { refetchInterval: 3_000, placeholderData: (prev) => prev },
    ),
  );

  const rows = useMemo(() => {
    const data = changes.data ?? [];
    if (!tableFilter || FULL_TABLE.test(tableFilter)) return data;
    const needle = tableFilter.toLowerCase();
    return data.filter((c) => c.table.toLowerCase().includes(needle));
  }, [changes.data, tableFilter]);

  const filtered = Boolean(jobId || tableFilter || kind || outcome);

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Schema changes</h1>
          <p className="muted">DDL the jobs saw in their sources&apos; binlogs, newest first, and what each job did about it.</p>
        </div>
        {changes.data && (
          <span className="live-dot on" data-testid="schema-changes-count">
            {rows.length} change{rows.length === 1 ? "" : "s"}
          </span>
        )}
      </div>

      <div className="card sc-filters" data-testid="schema-change-filters">
        <label className="field">
          <span>Job</span>
          <select data-testid="filter-job" value={jobId} onChange={(e) => setJobId(e.target.value)}>
            <option value="">All jobs</option>
            {jobs.data?.map((j) => (
              <option key={j.id} value={String(j.id)}>
                {j.name}
              </option>
            ))}
            {jobId && jobs.data && !jobs.data.some((j) => String(j.id) === jobId) && <option value={jobId}>job #{jobId}</option>}
          </select>
        </label>
        <label className="field">
          <span>Table</span>
          <input
            data-testid="filter-table"
            className="mono"
            placeholder="db.table"
            value={table}
            onChange={(e) => setTable(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Kind</span>
          <select data-testid="filter-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">All kinds</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k.replace(/_/g, " ")}
              </option>
            ))}
            {kind && !KINDS.includes(kind) && <option value={kind}>{kind}</option>}
          </select>
        </label>
        <label className="field">
          <span>Outcome</span>
          <select data-testid="filter-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">All outcomes</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        {filtered && (
          <button
            className="btn btn-ghost btn-sm sc-clear"
            data-testid="filter-clear"
            onClick={() => {
              setJobId("");
              setTable("");
              setKind("");
              setOutcome("");
            }}
          >
            Clear filters
          </button>
        )}
      </div>

      {changes.isError && <div className="alert alert-error">{changes.error.message}</div>}
      {changes.isPending && <div className="muted">Loading schema changes…</div>}
      {changes.data && rows.length === 0 && (
        <div className="empty" data-testid="schema-changes-empty">
          <div className="empty-title">{filtered ? "No schema changes match these filters" : "No schema changes yet"}</div>
          <p>
            {filtered
              ? "Try another job, table, kind or outcome."
              : "When a synced table is altered on the source (ALTER, RENAME, TRUNCATE…), the change and what the job did about it show up here."}
          </p>
        </div>
      )}
      {rows.length > 0 && (
        <ol className="sc-timeline" data-testid="schema-changes">
          {rows.map((c) => (
            <SchemaChangeEntry key={c.id} change={c} />
          ))}
        </ol>
      )}
    </div>
  );
}

function SchemaChangeEntry({ change: c }: { change: SchemaChange }) {
  return (
    <li
      className={`sc-entry outcome-${c.outcome}`}
      data-testid={`schema-change-${c.id}`}
      data-kind={c.kind}
      data-outcome={c.outcome}
    >
      <div className="sc-dot" aria-hidden />
      <div className="card sc-card">
        <div className="sc-head">
          <span className={`badge tone-${KIND_TONES[c.kind] ?? "muted"}`} data-testid={`schema-change-kind-${c.id}`}>
            {c.kind.replace(/_/g, " ")}
          </span>
          <span className={`badge tone-${OUTCOME_TONES[c.outcome] ?? "muted"}`} data-testid={`schema-change-outcome-${c.id}`}>
            {c.outcome}
          </span>
          <span className="mono sc-table">{c.table}</span>
          <span className="muted small">
            in{" "}
            <Link href={`/jobs/${c.jobId}`} className="strong-link">
              {c.jobName}
            </Link>
          </span>
          <span className="spacer" />
          <span className="muted small" title={`recorded ${formatTime(c.recordedAt)} · binlog ${c.position.file}:${c.position.pos}`}>
            <time dateTime={c.sourceTime}>{formatTime(c.sourceTime)}</time>
          </span>
          <span className="sc-duration small" data-testid={`schema-change-duration-${c.id}`} title="Time taken to handle the change">
            {formatMs(c.durationMs)}
          </span>
        </div>
        {c.detail && (
          <div className={`sc-detail small outcome-${c.outcome}`} data-testid={`schema-change-detail-${c.id}`}>
            {c.detail}
          </div>
        )}
        <pre className="sc-sql" data-testid={`schema-change-sql-${c.id}`}>
          {c.statement}
        </pre>
        <ColumnDiff id={c.id} before={c.columnsBefore} after={c.columnsAfter} parsed={c.parsed} />
        <div className="sc-foot muted small">
          behavior <span className="mono">{c.behavior}</span> · binlog{" "}
          <span className="mono">
            {c.position.file}:{c.position.pos}
          </span>
        </div>
      </div>
    </li>
  );
}
