export { Reconciler, type ReconcilerDeps } from "./reconciler";
export { JobRunner } from "./job-runner";
export { JobStore } from "./job-store";
export { JobMetrics, renderPrometheus } from "./job-metrics";
export { createLogger, type Logger } from "./logger";
export { Backoff, sleep } from "./backoff";
export { CheckpointCoordinator, labelPrefix, type CheckpointDetails, type CompletedCheckpoint } from "./checkpoint-coordinator";
export { armCrashPoints, crashPoint, CRASH_POINTS, type CrashPoint } from "./crash-points";
