// The contract every warehouse sink implements: loading changes in two phases,
// so a job can tie what the warehouse shows to a checkpointed source position.
// It is the shape of Apache Doris' Stream Load two-phase commit (a label per
// load, `two_phase_commit: true`, then `_stream_load_2pc` with
// `txn_operation: commit|abort`), which a later Doris sink implements; the
// embedded DuckDB sink (packages/warehouse) implements it now.
//
// Lifecycle of one load, identified by its label:
//
//   begin(label, table)   open a load into one table. Labels are unique per
//                         job, checkpoint and table: `job-7-cp-42-ods.orders`.
//   load.write(changes)   send row changes, any number of times. Nothing is
//                         visible to queries.
//   load.precommit()      make everything written durable but still invisible.
//                         From here on the sink must be able to commit or abort
//                         the label, even after either side crashed.
//   commit(label)         make the load visible, atomically. Idempotent:
//                         committing a committed label succeeds and changes
//                         nothing, so a label is never applied twice.
//   abort(label)          discard an open or precommitted load. Idempotent;
//                         aborting a committed label is an error.
//   recover(prefix)       labels with this prefix that are precommitted and
//                         neither committed nor aborted: what a restarting job
//                         must decide about (commit those its last completed
//                         checkpoint lists, abort the rest).
//
// The job's checkpoint coordinator (packages/runtime) drives it: write during
// an interval, precommit, persist the checkpoint (source position + labels) in
// the metadata DB, then commit.
import type { RowChange, SinkTableSpec } from "./index";

export interface SinkLoad {
  readonly label: string;
  readonly target: SinkTableSpec;
  write(changes: RowChange[]): Promise<void>;
  precommit(): Promise<void>;
}

export type LoadState = "open" | "precommitted" | "committed" | "aborted";

export interface TwoPhaseSink {
  begin(label: string, target: SinkTableSpec): Promise<SinkLoad>;
  commit(label: string): Promise<void>;
  abort(label: string): Promise<void>;
  recover(labelPrefix: string): Promise<string[]>;
  /** The state of a label, or undefined when the sink never saw it (or has forgotten it). */
  labelState(label: string): Promise<LoadState | undefined>;
}

/** Thrown when a label cannot move to the requested state (e.g. committing an aborted label). */
export class LabelStateError extends Error {
  constructor(
    readonly label: string,
    readonly state: LoadState | undefined,
    wanted: string,
  ) {
    super(`Load ${label} cannot be ${wanted}: it is ${state ?? "unknown to the sink"}`);
    this.name = "LabelStateError";
  }
}
