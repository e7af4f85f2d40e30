"use client";
import { useMemo, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { formatBytesPerSec, formatDuration, formatEta, formatNumber } from "@/lib/format";

type Sample = RouterOutputs["jobs"]["metricsHistory"][number];
const WINDOW_MS = 5 * 60_000;

const clock = (ms: number) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });

/** Ticks on whole seconds, at most about six: recharts' own fall between seconds and repeat a label. */
function secondTicks(from: number, to: number): number[] {
  const step = ([1, 2, 5, 10, 15, 30, 60, 120, 300].find((secs) => (to - from) / (secs * 1000) <= 6) ?? 600) * 1000;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

export function MetricsPanel({ jobId }: { jobId: number }) {
  const trpc = useTRPC();
  const history = useQuery(trpc.jobs.metricsHistory.queryOptions({ id: jobId }, { staleTime: Infinity, refetchOnMount: "always" }));
  const [live, setLive] = useState<Sample[]>([]);
  // Distinct samples that came over the subscription (not the history query): shows the chart is fed live.
  const [liveReceived, setLiveReceived] = useState(0);
  const lastLiveAt = useRef<number | null>(null);

  const subscription = useSubscription(
    trpc.jobs.metrics.subscriptionOptions(
      { id: jobId },
      {
        onData: (sample) => {
          setLive((prev) => {
            const cutoff = sample.at - WINDOW_MS;
            const next = prev.filter((s) => s.at > cutoff && s.at !== sample.at);
            next.push(sample);
            return next;
          });
          // The worker may hand out the same sample twice when polled faster than it samples.
          if (sample.at !== lastLiveAt.current) {
            lastLiveAt.current = sample.at;
            setLiveReceived((n) => n + 1);
          }
        },
      },
    ),
  );

  const samples = useMemo(() => {
    const byAt = new Map<number, Sample>();
    for (const s of history.data ?? []) byAt.set(s.at, s);
    for (const s of live) byAt.set(s.at, s);
    const all = [...byAt.values()].sort((a, b) => a.at - b.at);
    const newest = all.at(-1)?.at ?? 0;
    return all.filter((s) => s.at >= newest - WINDOW_MS);
  }, [history.data, live]);

  const latest = samples.at(-1);
  const connected = subscription.status === "pending";

  return (
    <div className="card metrics">
      <div className="card-head">
        <h2>Live metrics</h2>
        <span className={`live-dot ${connected ? "on" : ""}`} data-testid="metrics-status">
          {connected ? "live" : subscription.status === "error" ? "disconnected, retrying" : "connecting"}
        </span>
      </div>
      {latest && (latest.snapshotChunksTotal ?? 0) > 0 && <SnapshotProgress sample={latest} />}
      <div className="metrics-body">
        <div className="figures">
          <div className="figure" title="Source commit to visible in a warehouse query (Flink CDC's emit delay); 0 when caught up">
            <div className="figure-label">Emit lag</div>
            <div className="figure-value" data-testid="current-lag">
              {latest ? formatDuration(latest.lagMs) : "–"}
            </div>
          </div>
          <div className="figure" title="Time the newest binlog event took to reach Tide after its source commit (Flink CDC's fetch delay)">
            <div className="figure-label">Fetch lag</div>
            <div className="figure-value small-value" data-testid="current-fetch-lag">
              {latest?.fetchLagMs !== undefined ? formatDuration(latest.fetchLagMs) : "–"}
            </div>
          </div>
          <div className="figure">
            <div className="figure-label">Throughput</div>
            <div className="figure-value small-value" data-testid="current-throughput">
              {latest ? `${formatNumber(Math.round(latest.rowsPerSec))} rows/s` : "–"}
            </div>
          </div>
          <div className="figure">
            <div className="figure-label">Binlog read</div>
            <div className="figure-value small-value" data-testid="current-binlog-bytes">
              {latest?.binlogBytesPerSec !== undefined ? formatBytesPerSec(latest.binlogBytesPerSec) : "–"}
            </div>
          </div>
          <div className="figure">
            <div className="figure-label">Events applied</div>
            <div className="figure-value small-value">{latest ? formatNumber(latest.eventsTotal) : "–"}</div>
          </div>
          {latest?.position !== undefined && latest.position !== null && (
            <div className="figure">
              <div className="figure-label">Binlog position</div>
              <div className="figure-value mono tiny-value">{String(latest.position)}</div>
            </div>
          )}
        </div>
        <div className="chart" data-testid="lag-chart" data-samples={samples.length} data-live-samples={liveReceived}>
          {samples.length === 0 ? (
            <div className="chart-empty muted">Waiting for samples from the worker…</div>
          ) : (
            <ResponsiveContainer width="100%" height={240}>
              <LineChart data={samples} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid stroke="#e5e7eb" strokeDasharray="3 3" />
                <XAxis
                  dataKey="at"
                  type="number"
                  scale="time"
                  domain={["dataMin", "dataMax"]}
                  ticks={secondTicks(samples[0]!.at, samples.at(-1)!.at)}
                  tickFormatter={clock}
                  tick={{ fontSize: 11 }}
                  minTickGap={40}
                />
                <YAxis yAxisId="lag" tick={{ fontSize: 11 }} width={56} label={{ value: "lag ms", angle: -90, position: "insideLeft", fontSize: 11 }} />
                <YAxis yAxisId="rows" orientation="right" tick={{ fontSize: 11 }} width={56} label={{ value: "rows/s", angle: 90, position: "insideRight", fontSize: 11 }} />
                <Tooltip labelFormatter={(v) => clock(Number(v))} />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                <Line yAxisId="lag" type="monotone" dataKey="lagMs" name="Lag (ms)" stroke="#dc2626" dot={false} isAnimationActive={false} strokeWidth={1.5} />
                <Line yAxisId="rows" type="monotone" dataKey="rowsPerSec" name="Rows/s" stroke="#2563eb" dot={false} isAnimationActive={false} strokeWidth={1.5} />
              </LineChart>
            </ResponsiveContainer>
          )}
        </div>
      </div>
    </div>
  );
}

/** The snapshot in progress, from the newest sample: tables and key ranges read, rates and time left. */
function SnapshotProgress({ sample }: { sample: Sample }) {
  const chunksDone = sample.snapshotChunksDone ?? 0;
  const chunksTotal = sample.snapshotChunksTotal ?? 0;
  const pct = chunksTotal > 0 ? Math.min(100, Math.round((chunksDone / chunksTotal) * 100)) : 0;
  return (
    <div className="snapshot-progress" data-testid="snapshot-progress">
      <div className="snapshot-bar">
        <div className="figure-label">Snapshot</div>
        <div className="progress" title={`${chunksDone} of ${chunksTotal} key ranges read`}>
          <div className="progress-bar" style={{ width: `${pct}%` }} />
          <span className="progress-label" data-testid="snapshot-chunks">
            {formatNumber(chunksDone)} / {formatNumber(chunksTotal)} key ranges
          </span>
        </div>
      </div>
      <div className="snapshot-figures">
        <span>
          Tables <b data-testid="snapshot-tables">{formatNumber(sample.snapshotTablesDone ?? 0)} / {formatNumber(sample.snapshotTablesTotal ?? 0)}</b>
        </span>
        <span>
          Rows <b data-testid="snapshot-rows-per-sec">{formatNumber(sample.snapshotRowsPerSec ?? 0)}/s</b>
        </span>
        <span>
          Read <b data-testid="snapshot-bytes-per-sec">{formatBytesPerSec(sample.snapshotBytesPerSec ?? 0)}</b>
        </span>
        <span>
          Time left <b data-testid="snapshot-eta">{sample.snapshotEtaSeconds !== undefined ? formatEta(sample.snapshotEtaSeconds) : "estimating…"}</b>
        </span>
      </div>
    </div>
  );
}
