// A BinlogReader that runs in a thread of its own (binlog-reader-thread.ts),
// with the same surface as BinlogReader. Receiving and decoding the binlog was
// about a third of a catch-up's time on the applying thread, which also sat
// idle while the warehouse committed; in a thread of its own the decoding goes
// on meanwhile, on the machine's other core.
import { Worker } from "node:worker_threads";
import type { BinlogPosition, SourceTransaction } from "@tide/contracts";
import { waitOrWake, xaReplayFrom, type XaSpan } from "./binlog-reader";
import { decodeTransaction, type EncodedTransaction } from "./change-encoding";
import type { SourceConnectionConfig } from "./connection";
import { SourceError, type SourceErrorKind } from "./source-error";

export interface ThreadedBinlogReaderOptions {
  source: SourceConnectionConfig;
  /** Replica server id: unique per reader, never the source's own. */
  serverId: number;
  startAt: BinlogPosition;
  /** `db.table` of the tables whose rows are wanted; undefined: every table. */
  tables?: Iterable<string>;
  /** The thread's heap limit (old generation), MiB; default DEFAULT_HEAP_LIMIT_MB. */
  heapLimitMb?: number;
}

/**
 * Measured on a catch-up of 400k updates: unbounded, the thread's heap grew to 238 MiB and
 * the worker's RSS to 923 MiB; bounded at 128 MiB, 113 and 780 MiB at the same speed. The
 * default leaves room for rows of a few tens of MiB (max_allowed_packet is 16 MiB by default).
 */
export const DEFAULT_HEAP_LIMIT_MB = 192;

/** What the thread is started with (its workerData). */
export interface ReaderThreadData {
  entry: string;
  source: SourceConnectionConfig;
  serverId: number;
  startAt: BinlogPosition;
  tables?: string[];
}

export interface ReaderStatus {
  received: BinlogPosition;
  lastContactMs: number;
  fetchLagMs: number;
  bytesReceived: number;
  xaSpans: [string, XaSpan][];
}

export type ToReaderThread =
  | { type: "taken"; rows: number }
  | { type: "forget-xa-before"; position: BinlogPosition }
  | { type: "stop" };

export type FromReaderThread =
  | { type: "started"; status: ReaderStatus }
  | { type: "transactions"; transactions: EncodedTransaction[]; status: ReaderStatus }
  | { type: "status"; status: ReaderStatus }
  | { type: "failed"; error: { kind: SourceErrorKind; reason: string; message: string } }
  | { type: "stopped" };

const STOP_TIMEOUT_MS = 4_000;

export class ThreadedBinlogReader {
  private worker: Worker | undefined;
  private readonly queue: EncodedTransaction[] = [];
  private failure: SourceError | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private onStopped: (() => void) | undefined;
  private xaSpans = new Map<string, XaSpan>();
  private received: BinlogPosition;
  /** When the server last sent anything (an event or a heartbeat), ms since epoch. */
  lastContactMs = Date.now();
  /** Receive time minus source timestamp of the newest row event (Flink CDC's fetch delay). */
  fetchLagMs = 0;
  /** Binlog bytes received. */
  bytesReceived = 0;

  constructor(private readonly options: ThreadedBinlogReaderOptions) {
    this.received = options.startAt;
  }

  /** Where the reader is: the end of the last event its thread has read (as last reported). */
  get receivedPosition(): BinlogPosition {
    return this.received;
  }

  /** See the function xaReplayFrom; also lets the thread forget the spans ended before `position`. */
  xaReplayFrom(position: BinlogPosition): BinlogPosition | undefined {
    this.worker?.postMessage({ type: "forget-xa-before", position } satisfies ToReaderThread);
    return xaReplayFrom(this.xaSpans, position);
  }

  /** Starts the thread and its dump; rejects when the position is gone or a privilege is missing. */
  async start(): Promise<void> {
    const data: ReaderThreadData = {
      entry: new URL("./binlog-reader-thread.ts", import.meta.url).href,
      source: { ...this.options.source },
      serverId: this.options.serverId,
      startAt: this.options.startAt,
      ...(this.options.tables ? { tables: [...this.options.tables] } : {}),
    };
    const heapMb = this.options.heapLimitMb ?? DEFAULT_HEAP_LIMIT_MB;
    // A bounded heap makes the thread collect its garbage early instead of growing to hundreds of MiB.
    const worker = new Worker(new URL("./run-thread.mjs", import.meta.url), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on("message", (message: FromReaderThread) => {
        if (message.type === "started") {
          started = true;
          this.takeStatus(message.status);
          resolve();
        } else this.receive(message);
        if (!started && this.failure) reject(this.failure);
      });
      worker.on("error", (error) => {
        const outOfMemory = (error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY";
        const message = outOfMemory
          ? `The binlog reader's thread ran out of its ${heapMb} MiB heap (a row too large for it?); raise TIDE_BINLOG_READER_HEAP_MB`
          : `The binlog reader's thread failed: ${error.message}`;
        this.fail(new SourceError("unknown", "reader_thread", message, { cause: error }));
        if (!started) reject(this.failure);
      });
      worker.on("exit", () => {
        this.stopped = true;
        this.fail(new SourceError("unknown", "reader_thread", "The binlog reader's thread ended"));
        this.onStopped?.();
        if (!started) reject(this.failure);
      });
    });
  }

  /**
   * Whole committed transactions read so far: at least one when any is ready
   * (even one larger than maxRows), otherwise waits up to waitMs for one.
   */
  async poll(maxRows: number, waitMs: number): Promise<SourceTransaction[]> {
    if (this.queue.length === 0 && waitMs > 0 && !this.failure) await waitOrWake(waitMs, (wake) => (this.wake = wake));
    // What was read before a failure is handed out first: it is complete and committed.
    if (this.queue.length === 0 && this.failure) throw this.failure;
    const out: SourceTransaction[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (out.length > 0 && rows + next.rows > maxRows) break;
      this.queue.shift();
      out.push(decodeTransaction(next));
      rows += next.rows;
    }
    if (rows > 0) this.worker?.postMessage({ type: "taken", rows } satisfies ToReaderThread);
    return out;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      this.onStopped = () => {
        clearTimeout(timer);
        resolve();
      };
      worker.postMessage({ type: "stop" } satisfies ToReaderThread);
    });
    await worker.terminate();
  }

  private receive(message: FromReaderThread): void {
    switch (message.type) {
      case "transactions":
        for (const tx of message.transactions) this.queue.push(tx);
        this.takeStatus(message.status);
        this.wake?.();
        return;
      case "status":
        this.takeStatus(message.status);
        return;
      case "failed":
        this.fail(new SourceError(message.error.kind, message.error.reason, message.error.message));
        return;
      case "stopped":
        this.stopped = true;
        this.onStopped?.();
        return;
      default:
        return;
    }
  }

  private takeStatus(status: ReaderStatus): void {
    this.received = status.received;
    this.lastContactMs = status.lastContactMs;
    this.fetchLagMs = status.fetchLagMs;
    this.bytesReceived = status.bytesReceived;
    this.xaSpans = new Map(status.xaSpans);
  }

  private fail(error: SourceError): void {
    this.failure ??= error;
    this.wake?.();
  }
}
