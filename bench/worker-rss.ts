// The worker process's peak resident memory, sampled from /proc while a benchmark runs.
import { readFileSync } from "node:fs";

export class WorkerRssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(workerPid: () => number | undefined, everyMs = 200) {
    this.timer = setInterval(() => {
      const pid = workerPid();
      if (!pid) return;
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
        if (kb) this.peak = Math.max(this.peak, Number(kb) / 1024);
      } catch {
        // the worker is between restarts
      }
    }, everyMs);
  }

  /** The highest RSS seen since the start or the last reset, MiB. */
  peakMiB(): number {
    return this.peak;
  }

  reset(): void {
    this.peak = 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
