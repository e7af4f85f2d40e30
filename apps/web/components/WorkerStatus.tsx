"use client";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { formatTime } from "@/lib/format";

/** "14:03:22" today, else "3 Mar 14:03". */
function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toLocaleTimeString("en-GB", { hour12: false });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString("en-GB", { day: "numeric", month: "short" })} ${time.slice(0, 5)}`;
}

function ago(iso: string): string {
  const ms = Date.now() - new Date(iso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} d ago`;
}

/** The how of an exit, short enough for the headline: the full reason is clamped to two lines. */
function shortCause(reason: string | null): string | null {
  const m = reason?.match(/was killed by (SIG\w+)|exited with code (-?\d+)|died without shutting down/);
  if (!m) return null;
  return m[1] ? `killed by ${m[1]}` : m[2] !== undefined ? `exited with code ${m[2]}` : "died";
}

export function WorkerStatus() {
  const trpc = useTRPC();
  const status = useQuery(trpc.system.status.queryOptions(undefined, { refetchInterval: 5_000 }));
  const [expanded, setExpanded] = useState(false);

  let tone = "muted";
  let headline = "Checking worker…";
  let reason: string | null = null;
  let meta: string | null = null;
  let metaTitle: string | undefined;
  let restarts: number | undefined;

  if (status.isError) {
    tone = "bad";
    headline = "Worker status unknown";
    reason = status.error.message;
  } else if (status.data) {
    const worker = status.data.worker;
    if (worker) {
      restarts = worker.restarts;
      if (worker.startedAt) {
        meta = `Last start ${shortTime(worker.startedAt)} (${ago(worker.startedAt)})${worker.pid ? ` · pid ${worker.pid}` : ""}`;
        metaTitle = `Started ${formatTime(worker.startedAt)}${worker.heartbeatAt ? `, last heartbeat ${formatTime(worker.heartbeatAt)}` : ""}`;
      } else if (worker.pid) {
        meta = `pid ${worker.pid}`;
      }
    }
    if (!worker || !worker.reachable) {
      tone = "bad";
      headline = worker && worker.restarts > 0 ? `Worker unreachable (restarted ${worker.restarts} ${worker.restarts === 1 ? "time" : "times"})` : "Worker unreachable";
      reason = worker?.lastExitReason ?? null;
    } else if (worker.restarts > 0) {
      tone = "warn";
      headline = `Worker restarted ${worker.restarts} ${worker.restarts === 1 ? "time" : "times"}`;
      reason = worker.lastExitReason ?? "unknown reason";
    } else {
      tone = "good";
      headline = "Worker up";
    }
  }

  return (
    <div className={`worker-status tone-${tone}`} data-testid="worker-status" data-restarts={restarts} title={reason ?? metaTitle}>
      <span className="dot" />
      <div className="worker-status-body">
        <span className="worker-status-headline">
          {headline}
          {restarts !== undefined && restarts > 0 && shortCause(reason) && (
            <span data-testid="worker-status-cause"> ({shortCause(reason)})</span>
          )}
          {reason ? ": " : ""}
        </span>
        {reason && (
          <button
            type="button"
            className={`worker-reason ${expanded ? "expanded" : ""}`}
            data-testid="worker-status-reason"
            aria-expanded={expanded}
            title={expanded ? "Click to collapse" : reason}
            onClick={() => setExpanded((v) => !v)}
          >
            {reason}
          </button>
        )}
        {meta && (
          <span className="worker-status-meta" data-testid="worker-status-started" title={metaTitle}>
            {meta}
          </span>
        )}
      </div>
    </div>
  );
}
