// `npm run demo` as a user runs it (scripts/demo.ts, which demo.sh execs once
// dependencies and the console build are there): on free ports and a data
// directory of its own it prints the banner, the printed credentials sign in
// over HTTP, the shop-demo job streams and the warehouse follows the generator;
// Ctrl-C (also during startup) ends the demo and every process it started.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createTRPCClient, httpLink } from "@trpc/client";
import mysql from "mysql2/promise";
import type { AppRouter } from "@tide/api";
import { freePort } from "@tide/local-mariadb";

const REPO = resolve(import.meta.dirname, "../..");

interface Demo {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ports: { web: number; worker: number; mariadb: number };
  dataDir: string;
}

async function ensureConsoleBuilt(): Promise<void> {
  // npm test builds the console before the unit tests; run alone, this test builds it as demo.sh would.
  if (existsSync(join(REPO, "apps/web/.next/BUILD_ID"))) return;
  await promisify(execFile)("npm", ["run", "build", "--silent"], { cwd: REPO, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, maxBuffer: 64 << 20 });
}

async function startDemo(name: string): Promise<Demo> {
  const dataDir = join(REPO, ".test-data", name);
  rmSync(dataDir, { recursive: true, force: true });
  const ports = { web: await freePort(), worker: await freePort(), mariadb: await freePort() };
  // Its own process group, so the test can see every process the demo started, however deep.
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "scripts/demo.ts")], {
    cwd: REPO,
    env: {
      ...process.env,
      PORT: String(ports.web),
      TIDE_WORKER_PORT: String(ports.worker),
      TIDE_DEMO_MARIADB_PORT: String(ports.mariadb),
      TIDE_DATA_DIR: dataDir,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  return { child, output: () => output, exited, ports, dataDir };
}

async function waitForOutput(demo: Demo, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = demo.output().match(pattern);
    if (match) return match;
    assert.ok(demo.child.exitCode === null && demo.child.signalCode === null, `the demo exited before printing ${pattern}:\n${demo.output()}`);
    assert.ok(Date.now() < deadline, `no ${pattern} within ${timeoutMs} ms:\n${demo.output()}`);
    await sleep(100);
  }
}

/** Processes of the group that are still alive (zombies no longer run, so they do not count). */
function liveGroupMembers(pgid: number): number[] {
  const live: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp ...; comm may hold spaces, so split after its closing parenthesis.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") live.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return live;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== undefined && state !== "Z";
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      r(true);
    });
    socket.once("error", () => r(false));
  });
}

/** SIGINT to the demo alone (not its group): the demo must stop its children itself. */
async function interruptAndCheckAllGone(demo: Demo, pids: number[]): Promise<void> {
  const pgid = demo.child.pid!;
  process.kill(pgid, "SIGINT");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), 60_000)));
  const result = await Promise.race([demo.exited, timeout]);
  clearTimeout(timer);
  assert.notEqual(result, "timeout", `the demo did not exit within 60 s of SIGINT:\n${demo.output()}`);
  assert.deepEqual(result, { code: 0, signal: null }, demo.output());
  assert.deepEqual(liveGroupMembers(pgid), [], "processes the demo started are still running");
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is still running`);
  for (const [what, port] of Object.entries(demo.ports)) assert.equal(await portOpen(port), false, `the ${what} port ${port} is still open`);
}

/** Whatever a failed test left behind: only the demo's own process group. */
function killLeftovers(demo: Demo | undefined): void {
  if (!demo?.child.pid) return;
  if (liveGroupMembers(demo.child.pid).length === 0) return;
  try {
    process.kill(-demo.child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

test("npm run demo: banner, sign-in with the printed credentials, a streaming job, a live warehouse; Ctrl-C stops everything", { timeout: 300_000 }, async () => {
  await ensureConsoleBuilt();
  let demo: Demo | undefined;
  let source: mysql.Connection | undefined;
  try {
    demo = await startDemo("demo");
    const started = Date.now();
    await waitForOutput(demo, /Press Ctrl-C to stop everything/, 150_000);
    console.log(`demo up in ${Date.now() - started} ms`);
    const banner = demo.output();
    const consoleUrl = banner.match(/Console:\s+(http:\/\/\S+)/)?.[1];
    assert.equal(consoleUrl, `http://localhost:${demo.ports.web}`, banner);
    const [, username, password] = banner.match(/sign in as (\S+) \/ (\S+)\)/) ?? [];
    assert.ok(username && password, banner);
    const jobId = Number(banner.match(/\/jobs\/(\d+)/)?.[1]);
    assert.ok(jobId > 0, banner);
    assert.match(banner, new RegExp(`private MariaDB on 127\\.0\\.0\\.1:${demo.ports.mariadb}\\b`));
    assert.match(banner, new RegExp(`TIDE_URL=http://localhost:${demo.ports.web} `), "the CLI hint must point at the non-default port");

    // Sign in over HTTP exactly as the CLI does; a wrong password must not get a session.
    const wrong = await fetch(`${consoleUrl}/api/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: `${password}x` }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.getSetCookie().length, 0);
    const login = await fetch(`${consoleUrl}/api/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
    assert.equal(login.status, 200, await login.clone().text());
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith("tide_session="));
    assert.ok(cookie, "sign-in sets the session cookie");
    const token = decodeURIComponent(cookie.slice("tide_session=".length).split(";")[0]!);
    const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${consoleUrl}/api/trpc`, headers: { authorization: `Bearer ${token}` } })] });
    assert.equal((await api.auth.me.query())?.username, username);

    const jobs = await api.jobs.list.query();
    assert.deepEqual(jobs.map((j) => [j.id, j.name]), [[jobId, "shop-demo"]]);

    let job = await api.jobs.get.query({ id: jobId });
    for (const deadline = Date.now() + 90_000; job.actualState !== "streaming"; job = await api.jobs.get.query({ id: jobId })) {
      assert.notEqual(job.actualState, "failed", job.lastError ?? "");
      assert.ok(Date.now() < deadline, `the job is ${job.actualState}, not streaming, after 90 s`);
      await sleep(500);
    }
    const orders = job.tables.find((t) => t.sourceDatabase === "shop" && t.sourceTable === "orders");
    assert.ok(orders, JSON.stringify(job.tables));
    const [schema, table] = orders.sinkTable.split(".");
    assert.ok(schema && table && /^\w+$/.test(schema) && /^\w+$/.test(table), orders.sinkTable);
    const ordersTable = `"${schema}"."${table}"`;

    const snapshot = async () => {
      const result = await api.warehouse.query.mutate({ sql: `SELECT count(*) AS n, max(id) AS max_id, CAST(max(updated_at) AS VARCHAR) AS last FROM ${ordersTable}`, maxRows: 1 });
      return result.rows[0]!.map(String).join(" ");
    };
    const first = await snapshot();
    assert.ok(Number(first.split(" ")[0]) >= 5_000, `the demo seeds 5000 orders; the warehouse has ${first}`);
    let later = first;
    for (const deadline = Date.now() + 30_000; later === first; later = await snapshot()) {
      assert.ok(Date.now() < deadline, `the warehouse did not change in 30 s (${first}); the generator's changes are not arriving`);
      await sleep(500);
    }

    // A row written to the source now reaches the warehouse.
    source = await mysql.createConnection({ host: "127.0.0.1", port: demo.ports.mariadb, user: "root" });
    const [inserted] = await source.query<mysql.ResultSetHeader>(
      "INSERT INTO shop.orders (customer_id, product_id, quantity, amount, status) VALUES (1, 1, 7, 4242.42, 'new')",
    );
    const orderId = inserted.insertId;
    assert.ok(Number.isInteger(orderId) && orderId > 0);
    for (const deadline = Date.now() + 30_000; ; await sleep(300)) {
      const found = await api.warehouse.query.mutate({ sql: `SELECT CAST(amount AS VARCHAR) FROM ${ordersTable} WHERE id = ${orderId}`, maxRows: 1 });
      if (found.rows.length === 1) {
        assert.equal(String(found.rows[0]![0]), "4242.42");
        break;
      }
      assert.ok(Date.now() < deadline, `order ${orderId} did not reach the warehouse within 30 s`);
    }
    await source.end();
    source = undefined;

    const mariadbPid = Number(readFileSync(join(demo.dataDir, "mariadb", "mysqld.pid"), "utf8").trim());
    const workerPid = ((await (await fetch(`http://127.0.0.1:${demo.ports.worker}/healthz`)).json()) as { pid: number }).pid;
    const groupBefore = liveGroupMembers(demo.child.pid!);
    for (const pid of [demo.child.pid!, mariadbPid, workerPid]) assert.ok(groupBefore.includes(pid), `pid ${pid} not in the demo's group ${groupBefore.join(",")}`);
    assert.ok(groupBefore.length >= 4, `expected the demo, mariadbd, the worker and the web server, got ${groupBefore.join(",")}`);
    await interruptAndCheckAllGone(demo, [demo.child.pid!, mariadbPid, workerPid, ...groupBefore]);
    assert.match(demo.output(), /tide: stopping/);
  } finally {
    await source?.end().catch(() => undefined);
    killLeftovers(demo);
  }
});

test("Ctrl-C while the demo is still starting stops what it had started", { timeout: 180_000 }, async () => {
  await ensureConsoleBuilt();
  let demo: Demo | undefined;
  try {
    demo = await startDemo("demo-interrupted");
    // mariadbd is up; the worker and the console are not yet (or only just) started.
    await waitForOutput(demo, /mariadbd \(binlog on\) listening/, 120_000);
    const mariadbPid = Number(readFileSync(join(demo.dataDir, "mariadb", "mysqld.pid"), "utf8").trim());
    assert.ok(alive(mariadbPid));
    await interruptAndCheckAllGone(demo, [demo.child.pid!, mariadbPid]);
    assert.doesNotMatch(demo.output(), /Tide is running/);
    assert.doesNotMatch(demo.output(), /could not start/);
  } finally {
    killLeftovers(demo);
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
