"use client";
import { Fragment, useState } from "react";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { StateBadge } from "@/components/StateBadge";
import { MetricsPanel } from "@/components/MetricsPanel";
import { VerificationCell, VerificationDiffs } from "@/components/VerificationCell";
import { formatNumber, formatTime } from "@/lib/format";

export default function JobPage() {
  const params = useParams<{ id: string }>();
  const id = Number(params.id);
  const valid = Number.isInteger(id) && id > 0;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [showYaml, setShowYaml] = useState(false);
  const [confirmResnapshot, setConfirmResnapshot] = useState(false);
  const [openDiffs, setOpenDiffs] = useState<ReadonlySet<string>>(new Set());
  const toggleDiffs = (key: string) =>
    setOpenDiffs((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  const job = useQuery(trpc.jobs.get.queryOptions({ id }, { enabled: valid, refetchInterval: 2_000 }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.jobs.get.queryKey({ id }) });
  const pause = useMutation(trpc.jobs.pause.mutationOptions({ onSettled: refresh }));
  const resume = useMutation(trpc.jobs.resume.mutationOptions({ onSettled: refresh }));
  const stop = useMutation(trpc.jobs.stop.mutationOptions({ onSettled: refresh }));
  const resnapshot = useMutation(
    trpc.jobs.resnapshot.mutationOptions({
      onSettled: refresh,
      onSuccess: () => setConfirmResnapshot(false),
    }),
  );
  const verify = useMutation(trpc.jobs.verify.mutationOptions({ onSettled: refresh }));
  const actionError = pause.error ?? resume.error ?? stop.error ?? resnapshot.error ?? verify.error;

  if (!valid) return <div className="page"><div className="alert alert-error">There is no job “{params.id}”.</div></div>;
  if (job.isPending) return <div className="page muted">Loading job…</div>;
  if (job.isError) {
    return (
      <div className="page">
        <Link href="/jobs" className="crumb">← Jobs</Link>
        <div className="alert alert-error" data-testid="job-load-error">{job.error.message}</div>
      </div>
    );
  }

  const data = job.data;
  // A failed job runs nothing, so there is nothing to pause: it is retried, re-snapshotted or stopped.
  const failed = data.actualState === "failed";
  const exportYaml = () => {
    const blob = new Blob([data.yaml], { type: "application/yaml" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = `${data.name}.yaml`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
    setShowYaml(true);
  };

  return (
    <div className="page">
      <Link href="/jobs" className="crumb">← Jobs</Link>
      <div className="page-head">
        <div className="title-row">
          <h1 data-testid="job-name">{data.name}</h1>
          <StateBadge state={data.actualState} testId="job-state" />
          {data.desiredState !== "running" && data.desiredState !== data.actualState && (
            <span className="muted small">({data.desiredState} requested)</span>
          )}
        </div>
        <div className="actions">
          {failed && data.desiredState === "running" ? (
            <button className="btn" data-testid="job-stop" disabled={stop.isPending} onClick={() => stop.mutate({ id })}>
              ■ Stop
            </button>
          ) : data.desiredState === "running" ? (
            <button className="btn" data-testid="job-pause" disabled={pause.isPending} onClick={() => pause.mutate({ id })}>
              ❚❚ Pause
            </button>
          ) : (
            <button className="btn btn-primary" data-testid="job-resume" disabled={resume.isPending} onClick={() => resume.mutate({ id })}>
              ▶ Resume
            </button>
          )}
          <button className="btn" data-testid="export-yaml" onClick={exportYaml}>
            ⤓ Export YAML
          </button>
        </div>
      </div>

      {actionError && <div className="alert alert-error">{actionError.message}</div>}

      {data.actualState === "reconnecting" && data.lastError ? (
        <div className="alert alert-warn" data-testid="job-reconnecting" role="status">
          <div className="alert-title">The source connection was lost; the job is retrying by itself</div>
          <div>{data.lastError}</div>
        </div>
      ) : data.lastError || failed ? (
        <div className="alert alert-error job-error" data-testid="job-error" role="alert">
          <div className="alert-title">The job stopped on an error{data.lastErrorAt ? ` at ${formatTime(data.lastErrorAt)}` : ""}</div>
          <div>{data.lastError ?? "No reason was recorded; see the worker's log."}</div>
          {failed && (
            <div className="alert-actions">
              {/re-snapshot/i.test(data.lastError ?? "") ? (
                confirmResnapshot ? (
                  <div className="confirm" data-testid="job-resnapshot-confirm">
                    <span>
                      Copy {data.tables.length === 1 ? "the table" : `all ${data.tables.length} tables`} again from the source? The warehouse {data.tables.length === 1 ? "table is" : "tables are"} reloaded, then the job follows the binlog from now.
                    </span>
                    <button
                      className="btn btn-sm btn-danger"
                      data-testid="job-resnapshot-confirm-yes"
                      disabled={resnapshot.isPending}
                      onClick={() => resnapshot.mutate({ id })}
                    >
                      {resnapshot.isPending ? "Starting…" : "Yes, re-snapshot"}
                    </button>
                    <button
                      className="btn btn-sm"
                      data-testid="job-resnapshot-cancel"
                      disabled={resnapshot.isPending}
                      onClick={() => setConfirmResnapshot(false)}
                    >
                      Cancel
                    </button>
                  </div>
                ) : (
                  <button className="btn btn-sm btn-danger" data-testid="job-resnapshot" onClick={() => setConfirmResnapshot(true)}>
                    ⟳ Re-snapshot all tables
                  </button>
                )
              ) : (
                <button className="btn btn-sm" data-testid="job-retry" disabled={resume.isPending} onClick={() => resume.mutate({ id })}>
                  ↻ Retry
                </button>
              )}
            </div>
          )}
        </div>
      ) : null}

      <MetricsPanel jobId={id} />

      <div className="card no-pad">
        <div className="card-head">
          <h2>Tables</h2>
          <span className="muted small spacer">{data.tables.length} {data.tables.length === 1 ? "table" : "tables"} · created {formatTime(data.createdAt)}</span>
          <button
            className="btn btn-sm"
            data-testid="job-verify"
            disabled={verify.isPending || data.tables.length === 0}
            title="Compare every table's rows in the source with the warehouse"
            onClick={() => verify.mutate({ id })}
          >
            ✓ Verify
          </button>
        </div>
        <table className="table" data-testid="job-tables">
          <thead>
            <tr>
              <th>Source</th>
              <th>Target</th>
              <th>Model</th>
              <th>Phase</th>
              <th className="num">Rows copied</th>
              <th style={{ width: "18%" }}>Progress</th>
              <th style={{ width: "24%" }}>Last verification</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.tables.map((t) => {
              const key = `${t.sourceDatabase}.${t.sourceTable}`;
              const estimate = t.rowsEstimate ?? 0;
              // Key ranges read (from the last checkpoint) measure a chunked snapshot best; else rows against the estimate.
              const chunks = t.snapshot && t.snapshot.chunksTotal > 0 ? t.snapshot : null;
              const pct = chunks
                ? Math.min(100, Math.round((chunks.chunksDone / chunks.chunksTotal) * 100))
                : estimate > 0 ? Math.min(100, Math.round((t.rowsCopied / estimate) * 100)) : t.phase === "streaming" ? 100 : 0;
              const v = t.verification;
              const showDiffs = openDiffs.has(key) && v?.status === "different" && (v.differences ?? []).length > 0;
              return (
                <Fragment key={key}>
                  <tr data-testid={`job-table-row-${key}`} data-phase={t.phase} className={showDiffs ? "has-detail" : undefined}>
                    <td className="mono">{key}</td>
                    <td className="mono">{t.sinkTable}</td>
                    <td className="small">
                      {t.model === "duplicate" ? "append-only" : "unique"}
                      {t.keyColumns.length > 0 && <span className="muted"> ({t.keyColumns.join(", ")})</span>}
                    </td>
                    <td>
                      <StateBadge state={t.phase} testId={`job-table-phase-${key}`} />
                    </td>
                    <td className="num" data-testid={`job-table-rows-${key}`}>
                      {formatNumber(t.rowsCopied)}
                      {t.rowsEstimate !== null && <span className="muted"> / ~{formatNumber(t.rowsEstimate)}</span>}
                    </td>
                    <td>
                      {t.phase === "snapshotting" ? (
                        <>
                          <div className="progress" title={`${pct}%`}>
                            <div className="progress-bar" style={{ width: `${pct}%` }} />
                            <span className="progress-label">{pct}%</span>
                          </div>
                          {chunks && (
                            <div className="muted progress-note" data-testid={`job-table-chunks-${key}`}>
                              {formatNumber(chunks.chunksDone)} / {formatNumber(chunks.chunksTotal)} key ranges
                            </div>
                          )}
                        </>
                      ) : t.phase === "streaming" ? (
                        <span className="muted small" data-testid={`job-table-chunks-${key}`}>
                          snapshot done{chunks ? ` (${formatNumber(chunks.chunksTotal)} key ranges)` : ""}, following binlog
                        </span>
                      ) : t.phase === "failed" ? (
                        <span className="text-bad small">failed</span>
                      ) : (
                        <span className="muted small">waiting</span>
                      )}
                    </td>
                    <td>
                      <VerificationCell tableKey={key} verification={v} expanded={showDiffs} onToggle={() => toggleDiffs(key)} />
                    </td>
                    <td className="row-actions">
                      <button
                        className="btn btn-sm btn-ghost"
                        data-testid={`verify-${key}`}
                        disabled={verify.isPending || t.verification?.status === "requested" || t.verification?.status === "running"}
                        title={`Compare ${key} in the source with ${t.sinkTable}`}
                        onClick={() => verify.mutate({ id, table: key })}
                      >
                        Verify
                      </button>
                    </td>
                  </tr>
                  {showDiffs && v && (
                    <tr className="detail-row">
                      <td colSpan={8}>
                        <VerificationDiffs tableKey={key} verification={v} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>

      <details className="card yaml-details" open={showYaml} onToggle={(e) => setShowYaml(e.currentTarget.open)}>
        <summary>Pipeline YAML</summary>
        <pre className="yaml" data-testid="job-yaml">
          {data.yaml}
        </pre>
      </details>
    </div>
  );
}
