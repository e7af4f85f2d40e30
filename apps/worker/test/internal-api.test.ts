// The worker's internal API over real HTTP: /healthz and /metrics are open for
// probes, everything under /internal needs the shared secret as a Bearer token
// (the one the console reads from the same configuration).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadServerConfig } from "@tide/config";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let secret: string;
let base: string;

before(async () => {
  stack = await startStack("internal-api");
  // Generated into the data directory on first load; the worker reads the same file.
  secret = loadServerConfig(stack.env).internalSecret;
  base = stack.env.TIDE_WORKER_URL!;
  await stack.startWorker();
});

after(async () => {
  await stack?.close();
});

async function call(method: "GET" | "POST", path: string, authorization?: string, body?: unknown) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

test("/internal refuses a request without the secret or with a wrong one (401)", async () => {
  const sameLength = secret.replace(/^./, (c) => (c === "a" ? "b" : "a"));
  assert.notEqual(sameLength, secret);
  const wrong: (string | undefined)[] = [
    undefined,
    "",
    "Bearer ",
    "Bearer wrong",
    `Bearer ${sameLength}`,
    `Bearer ${secret}x`,
    `Bearer ${secret.slice(0, -1)}`,
    secret, // the secret without the scheme
    `Basic ${secret}`,
    `bearer${secret}`,
  ];
  for (const authorization of wrong) {
    for (const [method, path, body] of [
      ["GET", "/internal/tables", undefined],
      ["POST", "/internal/query", { sql: "SELECT 1", maxRows: 10 }],
      ["POST", "/internal/reconcile", {}],
      ["GET", "/internal/jobs/1/metrics", undefined],
    ] as const) {
      const res = await call(method, path, authorization, body);
      assert.equal(res.status, 401, `${method} ${path} with ${JSON.stringify(authorization)} answered ${res.status}`);
      assert.equal(res.body?.error?.code, "UNAUTHENTICATED");
      assert.ok(!JSON.stringify(res.body).includes(secret), "the answer must not reveal the secret");
    }
  }
});

test("/internal accepts the right secret; /healthz and /metrics need none", async () => {
  const auth = `Bearer ${secret}`;
  const tables = await call("GET", "/internal/tables", auth);
  assert.equal(tables.status, 200);
  assert.ok(Array.isArray(tables.body));
  const query = await call("POST", "/internal/query", auth, { sql: "SELECT 40 + 2 AS answer", maxRows: 10 });
  assert.equal(query.status, 200, JSON.stringify(query.body));
  assert.deepEqual(query.body.columns.map((c: { name: string }) => c.name), ["answer"]);
  assert.equal(Number(query.body.rows[0][0]), 42);
  assert.equal((await call("POST", "/internal/reconcile", auth, {})).status, 200);

  const health = await call("GET", "/healthz");
  assert.equal(health.status, 200);
  assert.equal(health.body.pid, stack.workerPid());
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
});
