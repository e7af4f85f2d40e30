// The contract every warehouse sink implements: loading changes in two phases,
// so a job can tie what the warehouse shows to a checkpointed source position.
// It is the shape of Apache Doris' Stream Load two-phase commit, which a later
// Doris sink implements; the embedded DuckDB sink (packages/warehouse) does now.
//
// Lifecycle of one load, identified by its label. Labels are unique per job,
// checkpoint, run and table (`job-7-cp-42-1a2b3c-ods.orders`, see
// packages/runtime/src/checkpoint-coordinator.ts) and never reused.
//
//   begin(label, table)   Open a load into one table. Rejects a label the sink
//                         already knows, in any state (LabelStateError).
//                         Doris: nothing yet; the label goes on the first PUT.
//   load.write(changes)   Send row changes, any number of times; nothing is
//                         visible to queries. Doris: `PUT /api/{db}/{table}/_stream_load`
//                         with headers `label`, `two_phase_commit: true` (one
//                         Stream Load per interval, streamed by chunked transfer).
//   load.precommit()      Make everything written durable but still invisible.
//                         From here on the sink must be able to commit or abort
//                         the label, even after either side crashed. Doris: the
//                         end of the Stream Load; its status `PREPARE` (TxnId kept).
//   commit(label)         Make the load visible, atomically. Idempotent:
//                         committing a committed label succeeds and changes
//                         nothing, so a label is never applied twice. Rejects an
//                         aborted or unknown label (the job must fail: data it
//                         promised is gone). Doris: `PUT /api/{db}/_stream_load_2pc`
//                         with `txn_operation: commit` and `label`; "is already
//                         VISIBLE" counts as success.
//   abort(label)          Discard an open or precommitted load. Idempotent;
//                         aborting a committed label is a LabelStateError.
//                         Doris: `_stream_load_2pc` with `txn_operation: abort`.
//   recover(prefix)       Labels with this prefix that are open or precommitted
//                         (neither committed nor aborted): what a restarting job
//                         must decide about (commit those its last completed
//                         checkpoint lists, abort the rest). Doris: the
//                         `PREPARE` transactions of `SHOW PROC '/transactions/{dbId}/running'`
//                         whose label starts with the prefix (what Doris' Flink
//                         connector aborts as lingering transactions on start).
//   labelState(label)     For tests and diagnostics. Doris: `SHOW TRANSACTION WHERE LABEL = ...`.
//
// Errors: a sink that cannot be reached throws the driver's error (the job
// retries it as transient); a state conflict throws LabelStateError (the job
// fails: it means the warehouse and the checkpoints disagree).
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
  /** Forgets committed and aborted labels of a prefix but the newest `keep` (sinks that keep their own label table). */
  pruneFinished?(labelPrefix: string, keep?: number): Promise<void>;
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
