// Capped exponential backoff for transient faults (source restarts, lost connections).

export interface BackoffOptions {
  /** First delay, ms (default 500). */
  initialMs?: number;
  /** Ceiling, ms (default 30 000). */
  maxMs?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
  }

  /** The attempt number that the next delay precedes (1-based). */
  get attempts(): number {
    return this.attempt;
  }

  nextDelayMs(): number {
    this.attempt += 1;
    return Math.min(this.maxMs, this.initialMs * 2 ** (this.attempt - 1));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after ms, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
