// Job states: what the user asked for (desired) and what the worker reports (actual).
export const DESIRED_STATES = ["running", "paused", "stopped"] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

export const JOB_STATES = [
  "pending", // created, the worker has not picked it up yet
  "snapshotting", // copying existing rows
  "streaming", // following the binlog
  "reconnecting", // a transient fault; retrying with backoff
  "paused", // stopped on request, resumes from its checkpoint
  "stopped",
  "failed", // a fault it cannot get past; lastError says why and what to do
  "finished", // a snapshot-only job that has copied its tables
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TABLE_PHASES = ["pending", "snapshotting", "streaming", "failed", "finished"] as const;
export type TablePhase = (typeof TABLE_PHASES)[number];

export const TABLE_MODELS = ["unique", "duplicate"] as const;
export type TableModel = (typeof TABLE_MODELS)[number];

export function isActive(state: JobState): boolean {
  switch (state) {
    case "pending":
    case "snapshotting":
    case "streaming":
    case "reconnecting":
      return true;
    case "paused":
    case "stopped":
    case "failed":
    case "finished":
      return false;
  }
}
