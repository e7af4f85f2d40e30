// Named places where a test can make the worker die as kill -9 would, to prove
// recovery from exactly there. Enabled only by TIDE_TEST_CRASH_POINTS, e.g.
// `after-precommit` (first time it is reached) or `mid-commit@3` (third time).
export const CRASH_POINTS = [
  "during-snapshot", // after a snapshot batch is appended, before the snapshot completes
  "after-write", // after changes are written to a load, before precommit
  "after-precommit", // loads precommitted, checkpoint not yet saved
  "after-checkpoint", // checkpoint saved, loads not yet committed
  "mid-commit", // some of a checkpoint's loads committed, not all
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const armed = new Map<string, number>();
const hits = new Map<string, number>();

/** Arms the crash points named in the worker's configuration (test setting only). */
export function armCrashPoints(specs: string[]): void {
  for (const spec of specs) {
    const [name, nth] = spec.split("@");
    if (!(CRASH_POINTS as readonly string[]).includes(name!)) throw new Error(`Unknown crash point "${name}"; known: ${CRASH_POINTS.join(", ")}`);
    armed.set(name!, Math.max(1, Number(nth ?? 1)));
  }
}

export function crashPoint(name: CrashPoint): void {
  const at = armed.get(name);
  if (at === undefined) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count < at) return;
  process.stderr.write(`tide: crash point "${name}" reached (hit ${count}); killing the worker\n`);
  process.kill(process.pid, "SIGKILL");
}
