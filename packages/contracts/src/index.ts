export * from "./errors";
export * from "./job-states";
export * from "./pipeline-spec";
export * from "./table-schema";
export * from "./change-events";
export * from "./source-checks";
export * from "./worker-api";
export * from "./resolve-tables";
