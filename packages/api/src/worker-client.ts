// The web app's side of the worker's internal API (loopback, shared secret).
import {
  QueryFailedError,
  WorkerUnavailableError,
  InvalidInputError,
  type JobMetricsSample,
  type QueryResult,
  type WarehouseTableInfo,
  type WorkerHealth,
} from "@tide/contracts";

export class WorkerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
  ) {}

  query(sql: string, maxRows: number, signal?: AbortSignal): Promise<QueryResult> {
    return this.call("POST", "/internal/query", { sql, maxRows }, signal);
  }

  tables(): Promise<WarehouseTableInfo[]> {
    return this.call("GET", "/internal/tables");
  }

  jobMetrics(jobId: number): Promise<JobMetricsSample> {
    return this.call("GET", `/internal/jobs/${jobId}/metrics`);
  }

  jobMetricsHistory(jobId: number, sinceMs = 0): Promise<JobMetricsSample[]> {
    return this.call("GET", `/internal/jobs/${jobId}/metrics/history?since=${sinceMs}`);
  }

  /** Asks the worker to reconcile now; it also does so every second, so failure is harmless. */
  async nudge(): Promise<void> {
    await this.call("POST", "/internal/reconcile", {}).catch(() => undefined);
  }

  async health(): Promise<WorkerHealth | undefined> {
    try {
      const res = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return res.ok ? ((await res.json()) as WorkerHealth) : undefined;
    } catch {
      return undefined;
    }
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.secret}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new WorkerUnavailableError();
    }
    const payload = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (res.ok) return payload as T;
    const message = payload.error?.message ?? `worker answered ${res.status}`;
    if (payload.error?.code === "INVALID_INPUT") throw new InvalidInputError(message, { sql: message });
    if (res.status === 400) throw new QueryFailedError(message);
    throw new WorkerUnavailableError(`The worker could not answer: ${message}`);
  }
}
