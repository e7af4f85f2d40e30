// What a job stores in the warehouse, in the same transaction as the data it
// describes. On restart this (not the metadata DB) says where to resume.
import type { BinlogPosition } from "@tide/contracts";

export interface JobOffset {
  version: 1;
  /** Binlog position after the last transaction the warehouse holds. */
  position: BinlogPosition;
  /** Source tables (`db.table`) whose snapshot is complete and which follow the binlog. */
  tables: string[];
}

export function offsetKey(jobId: number): string {
  return `job-${jobId}`;
}

export function isJobOffset(value: unknown): value is JobOffset {
  if (!value || typeof value !== "object") return false;
  const v = value as Partial<JobOffset>;
  return v.version === 1 && typeof v.position?.file === "string" && typeof v.position.pos === "number" && Array.isArray(v.tables);
}
