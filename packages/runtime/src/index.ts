export { Reconciler, type ReconcilerDeps } from "./reconciler";
export { JobRunner } from "./job-runner";
export { JobStore } from "./job-store";
export { JobMetrics, renderPrometheus } from "./job-metrics";
export { createLogger, type Logger } from "./logger";
export { Backoff, sleep } from "./backoff";
export { offsetKey, isJobOffset, type JobOffset } from "./job-offset";
