// The worker's HTTP API on loopback. /healthz and /metrics are open (for probes
// and Prometheus); everything under /internal needs the shared secret.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { QueryRequest, isTideError, type WorkerHealth } from "@tide/contracts";
import { renderPrometheus, type Reconciler } from "@tide/runtime";
import type { Warehouse } from "@tide/warehouse";

export interface InternalApiDeps {
  secret: string;
  warehouse: Warehouse;
  reconciler: Reconciler;
  startedAtMs: number;
}

const MAX_BODY_BYTES = 1_000_000;

export function createInternalApi(deps: InternalApiDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      const status = isTideError(error) && error.code !== "INTERNAL" ? 400 : 500;
      const message = error instanceof Error ? error.message : String(error);
      sendJson(res, status, { error: { code: isTideError(error) ? error.code : "INTERNAL", message } });
    });
  });
}

async function handle(deps: InternalApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://worker");
  const path = url.pathname;
  if (req.method === "GET" && path === "/healthz") {
    const health: WorkerHealth = { ok: true, pid: process.pid, startedAt: deps.startedAtMs, runningJobs: deps.reconciler.runningJobIds() };
    return sendJson(res, 200, health);
  }
  if (req.method === "GET" && path === "/metrics") {
    const jobs = deps.reconciler.allRunners().map((r) => ({ name: r.jobName, metrics: r.metrics }));
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(renderPrometheus(jobs, { startedAtMs: deps.startedAtMs }));
    return;
  }
  if (!path.startsWith("/internal/")) return sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no such endpoint" } });
  if (!authorized(req, deps.secret)) return sendJson(res, 401, { error: { code: "UNAUTHENTICATED", message: "missing or wrong internal secret" } });

  if (req.method === "POST" && path === "/internal/query") {
    const parsed = QueryRequest.safeParse(await readJson(req));
    if (!parsed.success) return sendJson(res, 400, { error: { code: "INVALID_INPUT", message: parsed.error.issues[0]?.message ?? "bad request" } });
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const result = await deps.warehouse.query(parsed.data.sql, { maxRows: parsed.data.maxRows, signal: abort.signal });
    return sendJson(res, 200, result);
  }
  if (req.method === "GET" && path === "/internal/tables") {
    return sendJson(res, 200, await deps.warehouse.listTables());
  }
  if (req.method === "POST" && path === "/internal/reconcile") {
    deps.reconciler.nudge();
    return sendJson(res, 200, { ok: true });
  }
  const metricsMatch = /^\/internal\/jobs\/(\d+)\/metrics(\/history)?$/.exec(path);
  if (req.method === "GET" && metricsMatch) {
    const jobId = Number(metricsMatch[1]);
    const runner = deps.reconciler.runner(jobId);
    if (metricsMatch[2]) {
      const since = Number(url.searchParams.get("since") ?? "0");
      return sendJson(res, 200, runner ? runner.metrics.since(Number.isFinite(since) ? since : 0) : []);
    }
    const sample = runner?.metrics.latest() ?? {
      jobId,
      at: Date.now(),
      state: "idle",
      lagMs: 0,
      rowsPerSec: 0,
      eventsTotal: 0,
      snapshotRowsCopied: 0,
    };
    return sendJson(res, 200, sample);
  }
  return sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no such endpoint" } });
}

function authorized(req: IncomingMessage, secret: string): boolean {
  const header = req.headers.authorization ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, { "content-type": "application/json" });
  res.end(text);
}
