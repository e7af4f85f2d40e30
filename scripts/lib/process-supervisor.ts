// Keeps Tide's processes running: a child that exits unexpectedly is started
// again after a capped backoff, and stop() ends them all. Used by `npm start`
// (production) and `npm run demo`.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export interface SupervisedProcess {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Output goes here (appended). */
  logFile: string;
  /** Restart after an unexpected exit (default true). */
  restart?: boolean;
}

export class ProcessSupervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly onEvent: (message: string) => void = (m) => console.log(m)) {}

  start(spec: SupervisedProcess, attempt = 0, previousExit?: string): void {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const log = createWriteStream(spec.logFile, { flags: "a" });
    // The restarted process learns why its predecessor ended (the worker shows it in the console).
    const env = previousExit ? { ...spec.env, TIDE_SUPERVISOR_LAST_EXIT: previousExit } : spec.env;
    const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.children.set(spec.name, child);
    const startedAt = Date.now();
    child.once("exit", (code, signal) => {
      log.end();
      if (this.stopping) return;
      // A process that ran a minute or more starts over at the shortest delay.
      const nextAttempt = Date.now() - startedAt > 60_000 ? 0 : attempt + 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(nextAttempt, 6));
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.onEvent(`${spec.name} ${how}; ${spec.restart === false ? "not restarting" : `restarting in ${delay} ms`} — see ${spec.logFile}`);
      if (spec.restart === false) return;
      const reason = `The ${spec.name} process (pid ${child.pid}) ${how} at ${new Date().toISOString()}; the supervisor restarted it.`;
      setTimeout(() => {
        if (!this.stopping) this.start(spec, nextAttempt, reason);
      }, delay);
    });
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.pid;
  }

  /** SIGTERM to every child, SIGKILL after the grace period. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}
