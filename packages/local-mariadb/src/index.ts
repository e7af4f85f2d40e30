// A private, binlog-enabled mariadbd run as a child process under a data directory
// of our own: the tests' source and metadata database, and the demo's. Nothing
// here touches the machine's own MariaDB service.
import { spawn, type ChildProcess, execFile } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";

const execFileAsync = promisify(execFile);

export interface LocalMariadbOptions {
  /** Directory holding the data files, socket, pid file and log. Created and initialised when empty. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when absent. */
  port?: number;
  /** Replication server id of this server (default 1). */
  serverId?: number;
  /** Binary logging on (default true). */
  binlog?: boolean;
  binlogFormat?: "ROW" | "STATEMENT" | "MIXED";
  binlogRowImage?: "FULL" | "MINIMAL" | "NOBLOB";
  binlogRowMetadata?: "FULL" | "MINIMAL" | "NO_LOG";
  /** More mariadbd flags, e.g. `--expire-logs-days=1`. */
  extraArgs?: string[];
  /** Remove the data directory first (default false: an existing one is reused). */
  fresh?: boolean;
}

const MARIADBD = process.env.TIDE_MARIADBD ?? "/usr/sbin/mariadbd";
const INSTALL_DB = process.env.TIDE_MARIADB_INSTALL_DB ?? "mariadb-install-db";

export class LocalMariadb {
  private child: ChildProcess | undefined;

  private constructor(
    readonly options: Required<Omit<LocalMariadbOptions, "extraArgs" | "fresh">> & { extraArgs: string[] },
  ) {}

  get port(): number {
    return this.options.port;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get socketPath(): string {
    return join(this.options.dataDir, "mysqld.sock");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** `mysql://root@127.0.0.1:<port>/<database>` (root has an empty password). */
  url(database = ""): string {
    return `mysql://root@127.0.0.1:${this.options.port}/${database}`;
  }

  static async start(options: LocalMariadbOptions): Promise<LocalMariadb> {
    const dataDir = resolve(options.dataDir);
    if (options.fresh) {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(`${dataDir}.tmp`, { recursive: true, force: true });
    }
    const server = new LocalMariadb({
      dataDir,
      port: options.port ?? (await freePort()),
      serverId: options.serverId ?? 1,
      binlog: options.binlog ?? true,
      binlogFormat: options.binlogFormat ?? "ROW",
      binlogRowImage: options.binlogRowImage ?? "FULL",
      binlogRowMetadata: options.binlogRowMetadata ?? "FULL",
      extraArgs: options.extraArgs ?? [],
    });
    await server.initialise();
    await server.launch();
    return server;
  }

  /**
   * A temp directory of its own, beside the data directory (inside it, it would show as a
   * database): servers sharing /tmp were seen to lose each other's bootstrap temp tables.
   */
  private get tmpDir(): string {
    return `${this.options.dataDir}.tmp`;
  }

  private async initialise(): Promise<void> {
    const { dataDir } = this.options;
    if (existsSync(join(dataDir, "mysql"))) return;
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
    try {
      await execFileAsync(INSTALL_DB, [
        "--no-defaults",
        `--datadir=${dataDir}`,
        `--tmpdir=${this.tmpDir}`,
        "--user=root",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
      ]);
    } catch (error) {
      throw new Error(`mariadb-install-db failed for ${dataDir}: ${(error as Error).message}`);
    }
  }

  /** Starts mariadbd (again, after stop/kill) on the same data directory and port. */
  async launch(): Promise<void> {
    const o = this.options;
    mkdirSync(this.tmpDir, { recursive: true });
    const args = [
      "--no-defaults",
      "--user=root",
      `--datadir=${o.dataDir}`,
      `--tmpdir=${this.tmpDir}`,
      `--socket=${this.socketPath}`,
      `--pid-file=${join(o.dataDir, "mysqld.pid")}`,
      `--port=${o.port}`,
      "--bind-address=127.0.0.1",
      `--server-id=${o.serverId}`,
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=256M",
      "--innodb-log-file-size=256M",
      "--max-connections=500",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_general_ci",
      `--log-error=${join(o.dataDir, "error.log")}`,
    ];
    if (o.binlog) {
      args.push(
        `--log-bin=${join(o.dataDir, "mysql-bin")}`,
        `--binlog-format=${o.binlogFormat}`,
        `--binlog-row-image=${o.binlogRowImage}`,
        `--binlog-row-metadata=${o.binlogRowMetadata}`,
      );
    }
    args.push(...o.extraArgs);
    const out = openSync(join(o.dataDir, "stdout.log"), "a");
    this.child = spawn(MARIADBD, args, { stdio: ["ignore", out, out], detached: false });
    const child = this.child;
    let exited: string | undefined;
    child.once("exit", (code, signal) => {
      exited = `mariadbd exited (code ${code}, signal ${signal})`;
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`${exited}; see ${join(o.dataDir, "error.log")}:\n${tail(join(o.dataDir, "error.log"))}`);
      try {
        const conn = await mysql.createConnection({ host: "127.0.0.1", port: o.port, user: "root" });
        await conn.end();
        return;
      } catch {
        if (Date.now() > deadline) {
          // A server that never answered is not left running (it would hold the port and the data directory).
          await this.kill();
          throw new Error(`mariadbd did not accept connections on port ${o.port} within 60 s; see ${join(o.dataDir, "error.log")}:\n${tail(join(o.dataDir, "error.log"))}`);
        }
        await sleep(100);
      }
    }
  }

  /** A connection as root; the caller ends it. */
  async connect(database?: string): Promise<mysql.Connection> {
    return mysql.createConnection({
      host: "127.0.0.1",
      port: this.options.port,
      user: "root",
      database,
      multipleStatements: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
  }

  /** Runs statements as root and returns the rows of the last one. */
  async sql(statement: string, params: unknown[] = []): Promise<unknown> {
    const conn = await this.connect();
    try {
      const [rows] = await conn.query(statement, params);
      return rows;
    } finally {
      await conn.end();
    }
  }

  /** Clean shutdown (SIGTERM), waiting for the process to exit. */
  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Crash (SIGKILL), as a power cut would. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((res) => child.once("exit", () => res()));
    child.kill(sig);
    await done;
    this.child = undefined;
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => res(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}
