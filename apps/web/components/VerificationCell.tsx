"use client";
// The last source-vs-warehouse comparison of one table: progress while the worker
// compares, then equal (green), different (red, with the differing key ranges) or
// failed (grey). The finish time is the tooltip.
import type { RouterOutputs } from "@/lib/trpc";
import { formatCell, formatNumber, formatTime } from "@/lib/format";

export type Verification = NonNullable<RouterOutputs["jobs"]["get"]["tables"][number]["verification"]>;

function when(v: Verification): string {
  return v.finishedAt ? `Finished ${formatTime(v.finishedAt)}` : `Requested ${formatTime(v.requestedAt)}`;
}

export function VerificationCell({
  tableKey,
  verification: v,
  expanded = false,
  onToggle,
}: {
  tableKey: string;
  verification: Verification | null;
  /** Whether the differing key ranges are shown (in a row under the table's, see VerificationDiffs). */
  expanded?: boolean;
  onToggle?: () => void;
}) {
  const testId = `verification-${tableKey}`;
  if (!v) {
    return (
      <span className="muted small" data-testid={testId} data-status="none">
        never verified
      </span>
    );
  }

  if (v.status === "requested" || v.status === "running") {
    const total = v.chunksTotal ?? 0;
    const done = v.chunksDone ?? 0;
    const pct = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
    return (
      <div className="verify-cell" data-testid={testId} data-status={v.status} title={when(v)}>
        <div className="progress verify-progress">
          <div className="progress-bar" style={{ width: `${pct}%` }} />
          <span className="progress-label">
            {v.status === "requested" && total === 0 ? "queued…" : `${formatNumber(done)}/${formatNumber(total)} key ranges`}
          </span>
        </div>
      </div>
    );
  }

  if (v.status === "equal") {
    return (
      <div className="verify-cell" data-testid={testId} data-status={v.status} title={when(v)}>
        <span className="verify-pill tone-good">✓ Equal · {formatNumber(v.sourceRows ?? v.warehouseRows)} rows</span>
      </div>
    );
  }

  if (v.status === "different") {
    const diffs = v.differences ?? [];
    return (
      <div className="verify-cell" data-testid={testId} data-status={v.status} title={when(v)}>
        <span className="verify-pill tone-bad">✗ Different</span>
        <div className="verify-message">
          {v.message ??
            `source ${formatNumber(v.sourceRows)} rows, warehouse ${formatNumber(v.warehouseRows)} rows`}
        </div>
        {diffs.length > 0 && (
          <button
            type="button"
            className="linkish verify-toggle"
            data-testid={`verification-diffs-toggle-${tableKey}`}
            aria-expanded={expanded}
            onClick={onToggle}
          >
            {expanded ? "▾" : "▸"} {diffs.length} differing key {diffs.length === 1 ? "range" : "ranges"}
          </button>
        )}
      </div>
    );
  }

  return (
    <div className="verify-cell" data-testid={testId} data-status={v.status} title={when(v)}>
      <span className="verify-failed">Failed: {v.message ?? "unknown error"}</span>
    </div>
  );
}

/** The key ranges `[from, to)` a verification found different, with row counts on each side and sample keys. */
export function VerificationDiffs({ tableKey, verification: v }: { tableKey: string; verification: Verification }) {
  const diffs = v.differences ?? [];
  return (
    <div className="verify-diffs" data-testid={`verification-diffs-${tableKey}`}>
      <div className="verify-diffs-title">
        Key ranges of <span className="mono">{tableKey}</span> that differ
        {v.finishedAt && <span className="muted"> · verified {formatTime(v.finishedAt)}</span>}
      </div>
      <table className="verify-diff-table">
        <thead>
          <tr>
            <th>Key range</th>
            <th className="num">Source rows</th>
            <th className="num">Warehouse rows</th>
            <th className="num">Difference</th>
            <th>Sample keys</th>
          </tr>
        </thead>
        <tbody>
          {diffs.map((d, i) => (
            <tr key={i}>
              <td className="mono nowrap">
                [{formatCell(d.from)}, {formatCell(d.to)})
              </td>
              <td className="num">{formatNumber(d.sourceRows)}</td>
              <td className="num">{formatNumber(d.warehouseRows)}</td>
              <td className="num text-bad">
                {d.warehouseRows - d.sourceRows > 0 ? "+" : ""}
                {formatNumber(d.warehouseRows - d.sourceRows)}
              </td>
              <td className="mono verify-keys">
                {(d.sampleKeys ?? []).length > 0 ? d.sampleKeys.map(formatCell).join(", ") : <span className="muted">–</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
