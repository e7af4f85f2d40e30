// Follows the binlog from a checkpoint and loads each table's changes through
// the checkpoint coordinator: written as they arrive, visible at the next
// checkpoint (default every 500 ms), exactly once.
//
// Tables can join while the job runs (added to its pattern, or created in the
// source later). To join, the stream stops its reader, opens a consistent
// snapshot (position S), and restarts the reader from the earlier of S and its
// own position: the reader reads ahead, and on MariaDB a transaction can be in
// the binlog before a new snapshot sees it, so rows of the joining table read
// before the join could otherwise be lost. Replayed transactions are ignored
// for the tables already streaming; the joining table takes those after S.
// Its copy runs beside the stream, and its load stays out of checkpoints until
// the copy is complete, so the fold lands on the full snapshot.
import { CollationWeigher, ConsistentSnapshot, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { ThreadedBinlogReader } from "@tide/cdc-mysql/threaded-binlog-reader";
import { comparePositions, formatPosition, type BinlogPosition, type RowChange, type SinkTableSpec, type SourceTransaction, type TableSchema } from "@tide/contracts";
import type { DdlEvent } from "./schema-evolution";
import type { Warehouse } from "@tide/warehouse";
import { filterByPlan, loadChunk, needsWeights, planDone, planHorizon, type KeyWeights, type SnapshotChunk, type TableSnapshotPlan } from "./chunked-snapshot";
import { crashPoint } from "./crash-points";
import type { CheckpointCoordinator } from "./checkpoint-coordinator";
import type { JobMetrics } from "./job-metrics";
import type { Logger } from "./logger";

/** Changes taken per poll, at most (whole source transactions are never split). */
const MAX_BATCH_ROWS = 20_000;
/** How long a poll waits for the first transaction: bounds the extra latency of an idle stream. */
const POLL_WAIT_MS = 50;
/** The same while range loads run beside the stream (they start each other; the loop only polls). */
const LOADING_POLL_WAIT_MS = 5;

interface ChunkLoad {
  chunk: SnapshotChunk;
  /** The position the load's snapshot was taken at, once open. */
  opened: Promise<BinlogPosition>;
  done: Promise<void>;
}

export interface JoinRequest {
  key: string;
  target: SinkTableSpec;
}

interface TableRoute {
  target: SinkTableSpec;
  /** A chunked snapshot in progress: changes count per key range, once newer than the range's read. */
  plan?: TableSnapshotPlan;
  schema?: TableSchema;
  /** Only transactions committed after this position count for the table. */
  after?: BinlogPosition;
  /** Pieces of a huge transaction whose commit position is not known yet. */
  pieces: RowChange[];
  /** Character keys split into ranges: the collation weights of the keys in hand, and where they come from. */
  weights?: KeyWeights;
  weigher?: CollationWeigher;
  /** Every range is read and the table was reported done. */
  snapshotDone?: boolean;
}

export class ChangeStream {
  private readonly routes = new Map<string, TableRoute>();
  private readonly joining = new Set<string>();
  private readonly joinRequests: JoinRequest[] = [];
  private failure: unknown;
  /** The binlog reader in use (a join replaces it). */
  private reader: ThreadedBinlogReader | undefined;
  /** Where the first reader starts: `from`, or earlier to replay prepared XA transactions. */
  private readFrom: BinlogPosition;
  /** Where the stream has got to: the position every change up to has been handed to the coordinator. */
  private position: BinlogPosition;
  /**
   * The newest transaction whose changes were sorted into counted and skipped (it may not be
   * handed to the coordinator yet): a range load's snapshot must be at least this new, or a
   * change skipped because its range was unread could be missing from the range's read too.
   */
  private taken: BinlogPosition;
  /** Range loads in flight, with the position each one's snapshot was taken at once known. */
  private readonly loads = new Set<ChunkLoad>();
  /** While set (a DDL being applied, the stream stopping), no new range load starts. */
  private loadsHeld = false;
  /** The stream is waiting for range loads (see startLoads). */
  private settling = false;
  /** A range was loaded since the last checkpoint: the next one records it even if the binlog stood still. */
  private rangesLoadedSinceCheckpoint = false;

  constructor(
    private readonly args: {
      serverId: number;
      source: SourceConnectionConfig;
      /** `db.table` → where its changes go. */
      targets: Map<string, SinkTableSpec>;
      from: BinlogPosition;
      coordinator: CheckpointCoordinator;
      metrics: JobMetrics;
      log: Logger;
      signal: AbortSignal;
      /** Called once the reader is connected and streaming. */
      onStreaming: () => Promise<void>;
      /** Called every few seconds while streaming (the runner looks for added or removed tables). */
      onTick?: () => Promise<void>;
      tickEveryMs?: number;
      /** Copies joining tables from the snapshot taken for them; the stream closes the snapshot after. */
      copyJoined: (snapshot: ConsistentSnapshot, tables: JoinRequest[]) => Promise<void>;
      /** The source table's columns as they now are, and with `keyColumns` a new snapshot plan split on them (see followDdlInSnapshots). */
      snapshotTable?: (key: string, keyColumns?: string[]) => Promise<{ schema: TableSchema; plan?: TableSnapshotPlan }>;
      onSnapshotRestart?: (key: string) => Promise<void>;
      /** Tables whose chunked snapshot is in progress (by `db.table`); their ranges load beside the stream. */
      snapshots?: Map<string, { schema: TableSchema; plan: TableSnapshotPlan }>;
      /** Key ranges read at the same time (pipeline.parallelism), default 1. */
      snapshotParallelism?: number;
      /** The binlog reader thread's heap limit, MiB (TIDE_BINLOG_READER_HEAP_MB). */
      readerHeapMb?: number;
      warehouse?: Warehouse;
      /** After each loaded range; `tableDone` when the table's last range is in. */
      onChunkLoaded?: (key: string, rows: number, tableDone: boolean) => Promise<void>;
      onSnapshotRows?: (rows: number) => void;
      /** Per-table start positions restored from the checkpoint (see CheckpointDetails.startAfter). */
      startAfter?: Record<string, BinlogPosition>;
      /** From the checkpoint: read from here to pick up XA transactions prepared before `from` (see CheckpointDetails.xaReplayFrom). */
      xaReplayFrom?: BinlogPosition;
      /** A DDL statement in the binlog; may replace entries of `targets` (followed table → warehouse table). */
      onDdl?: (event: DdlEvent, targets: Map<string, SinkTableSpec>) => Promise<void>;
    },
  ) {
    this.position = args.from;
    this.taken = args.from;
    this.readFrom = args.from;
    for (const [key, target] of args.targets) {
      const snapshot = args.snapshots?.get(key);
      this.routes.set(key, { target, pieces: [], ...(snapshot ? { plan: snapshot.plan, schema: snapshot.schema } : {}) });
    }
    for (const [key, after] of Object.entries(args.startAfter ?? {})) {
      const route = this.routes.get(key);
      if (route && comparePositions(after, args.from) > 0) route.after = after;
    }
    if (args.xaReplayFrom && comparePositions(args.xaReplayFrom, args.from) < 0) {
      // Re-read the stretch before `from` for its XA transactions only: everything else there
      // was applied, so every table takes changes only after `from` (DDL there is skipped too).
      this.readFrom = args.xaReplayFrom;
      for (const route of this.routes.values()) if (!route.after || comparePositions(route.after, args.from) < 0) route.after = args.from;
    }
    args.coordinator.snapshotProgress = () => this.snapshotProgress();
    args.coordinator.xaReplayFrom = (position) => this.reader?.xaReplayFrom(position);
    args.coordinator.startPositions = () => {
      const out: Record<string, BinlogPosition> = {};
      // Joining tables are not in the checkpoint's tables yet: a restart snapshots them again.
      for (const [key, route] of this.routes) if (route.after && !this.joining.has(key)) out[key] = route.after;
      return out;
    };
  }

  /**
   * Chunked snapshots still in force, for the checkpoint: a plan is kept until the stream has
   * passed the newest position any of its ranges was read at, even when every range is read,
   * because a resumed stream must still skip the changes those reads already hold.
   */
  snapshotProgress(): Record<string, TableSnapshotPlan> {
    const out: Record<string, TableSnapshotPlan> = {};
    for (const [key, route] of this.routes) if (route.plan) out[key] = route.plan;
    return out;
  }

  /** Whether any table still has key ranges to read. */
  snapshotting(): boolean {
    for (const route of this.routes.values()) if (route.plan && !planDone(route.plan)) return true;
    return false;
  }

  /** Tables followed (not joining) and those of them whose snapshot is read; key ranges read and planned. */
  snapshotCounts(): { tablesDone: number; tablesTotal: number; chunksDone: number; chunksTotal: number } {
    const counts = { tablesDone: 0, tablesTotal: 0, chunksDone: 0, chunksTotal: 0 };
    for (const [key, route] of this.routes) {
      if (this.joining.has(key)) continue;
      counts.tablesTotal += 1;
      if (!route.plan || planDone(route.plan)) counts.tablesDone += 1;
      if (route.plan && !planDone(route.plan)) {
        counts.chunksTotal += route.plan.chunks.length;
        counts.chunksDone += route.plan.chunks.filter((c) => c.readAt !== undefined).length;
      }
    }
    return counts;
  }

  /**
   * Starts range loads until `snapshotParallelism` are in flight. Each reads at its own
   * consistent position, no older than the stream's, on a warehouse connection of its own;
   * a finished load starts the next one.
   */
  private startLoads(): void {
    const limit = Math.max(1, this.args.snapshotParallelism ?? 1);
    while (!this.loadsHeld && !this.failure && !this.args.signal.aborted && this.loads.size < limit) {
      const next = this.nextUnreadChunk();
      if (!next) return;
      const { key, route, chunk } = next;
      let opened!: (position: BinlogPosition) => void;
      let openFailed!: (error: unknown) => void;
      const load: ChunkLoad = {
        chunk,
        opened: new Promise<BinlogPosition>((resolve, reject) => {
          opened = resolve;
          openFailed = reject;
        }),
        done: Promise.resolve(),
      };
      load.opened.catch(() => undefined); // the failure is reported through `done`
      const started = performance.now();
      const { metrics } = this.args;
      load.done = loadChunk({
        source: this.args.source,
        schema: route.schema!,
        target: route.target,
        plan: route.plan!,
        chunk,
        notBefore: this.taken,
        warehouse: this.args.warehouse!,
        concurrent: true,
        onOpened: opened,
        onBatch: (rows) => this.args.onSnapshotRows?.(rows),
        onBytes: (bytes) => {
          metrics.snapshotBytesRead += bytes;
        },
        onWriteMs: (ms) => {
          metrics.snapshotWriteMs += ms;
        },
      })
        .then(async () => {
          metrics.snapshotChunkMs += performance.now() - started;
          metrics.snapshotChunksDone += 1;
          this.rangesLoadedSinceCheckpoint = true;
          crashPoint("during-snapshot");
          // Two loads can finish together: only the first to see the plan done reports the table done.
          const tableDone = planDone(route.plan!) && !route.snapshotDone;
          if (tableDone) route.snapshotDone = true;
          await this.args.onChunkLoaded?.(key, chunk.rows ?? 0, tableDone);
        })
        .catch((error: unknown) => {
          openFailed(error);
          this.failure ??= error;
        })
        .finally(() => {
          this.loads.delete(load);
          // While the stream waits for loads to land, it starts the next ones itself, after its
          // batch and its checkpoint: loads chained here would keep it waiting, and checkpoints
          // (the snapshot's progress) would wait for the whole table.
          if (!this.settling) this.startLoads();
        });
      this.loads.add(load);
    }
  }

  private nextUnreadChunk(): { key: string; route: TableRoute; chunk: SnapshotChunk } | undefined {
    if (!this.args.warehouse) return undefined;
    const inFlight = new Set([...this.loads].map((l) => l.chunk));
    for (const [key, route] of this.routes) {
      if (!route.plan || !route.schema) continue;
      const chunk = route.plan.chunks.find((c) => c.readAt === undefined && !inFlight.has(c));
      if (chunk) return { key, route, chunk };
    }
    return undefined;
  }

  /**
   * Waits for the range loads whose snapshot is older than `position`: a change past a
   * load's snapshot counts for its range only once the range is in (a change at or before
   * it is in the snapshot already, and skipped while the range is unread).
   */
  private async settleLoadsBefore(position: BinlogPosition): Promise<void> {
    this.settling = true;
    try {
      for (const load of [...this.loads]) {
        let at: BinlogPosition;
        try {
          at = await load.opened;
        } catch {
          continue; // failed: reported through this.failure
        }
        if (comparePositions(position, at) > 0) await load.done;
      }
    } finally {
      this.settling = false;
    }
    if (this.failure) throw this.failure;
  }

  private async settleAllLoads(): Promise<void> {
    await Promise.all([...this.loads].map((l) => l.done));
  }

  tableKeys(): string[] {
    return [...this.routes.keys(), ...this.joinRequests.map((j) => j.key)];
  }

  /** Asks for a table to join; it happens at the next transaction boundary. */
  requestJoin(request: JoinRequest): void {
    if (!this.routes.has(request.key) && !this.joinRequests.some((j) => j.key === request.key)) this.joinRequests.push(request);
  }

  /** Stops following a table (removed from the job); its warehouse table stays. */
  remove(key: string): void {
    this.routes.delete(key);
    this.joining.delete(key);
    this.args.coordinator.setTables(this.streamingKeys());
  }

  private streamingKeys(): string[] {
    return [...this.routes.keys()].filter((k) => !this.joining.has(k));
  }

  async run(): Promise<void> {
    const { coordinator, metrics, log, signal } = this.args;
    let reader = await this.openReader(this.readFrom);
    let checkpointed = formatPosition(this.position);
    // Inside a transaction handed out in pieces: no checkpoint (or join) until its last piece.
    let midTransaction = false;
    let lastTick = Date.now();
    const checkpoint = async () => {
      const started = performance.now();
      this.rangesLoadedSinceCheckpoint = false;
      const visible = await coordinator.checkpoint(this.position);
      checkpointed = formatPosition(this.position);
      if (visible.newestCommitMs !== undefined) metrics.recordApply(visible.rows, visible.newestCommitMs, true, (performance.now() - started) / 1000);
      metrics.position = checkpointed;
    };
    try {
      metrics.state = "streaming";
      metrics.position = checkpointed;
      await this.args.onStreaming();
      // Range loads start beside the first poll rather than after it (and its first checkpoint).
      if (this.snapshotting()) this.startLoads();
      while (!signal.aborted) {
        if (this.failure) throw this.failure;
        // While key ranges remain to be read, do not idle long waiting for the binlog: a finished
        // load may be holding back changes past its snapshot.
        const transactions = await reader.poll(MAX_BATCH_ROWS, this.snapshotting() ? LOADING_POLL_WAIT_MS : POLL_WAIT_MS);
        metrics.sourceContactMs = reader.lastContactMs;
        metrics.fetchLagMs = reader.fetchLagMs;
        metrics.binlogBytesTotal = reader.bytesReceived;
        if (transactions.length > 0) {
          let byTable = new Map<string, { target: SinkTableSpec; changes: RowChange[] }>();
          let newestCommitMs = 0;
          let lastData: SourceTransaction | undefined;
          const flush = async () => {
            for (const { target, changes } of byTable.values()) await coordinator.write(target, changes, newestCommitMs);
            byTable = new Map();
            // A replay after a join re-reads transactions already handled: the position never moves back.
            if (lastData && comparePositions(lastData.position, this.position) > 0) this.position = lastData.position;
            midTransaction = lastData?.partial === true;
            lastData = undefined;
          };
          for (const tx of transactions) {
            if (this.loads.size > 0 && !tx.partial) await this.settleLoadsBefore(tx.position);
            if (tx.ddl) {
              // The source's shape changes here: what came before becomes visible in the old shape first,
              // and range loads (which read the old shape) finish first.
              await flush();
              if (comparePositions(tx.position, this.position) <= 0) continue; // replayed: handled before
              this.loadsHeld = true;
              await this.settleAllLoads();
              if (this.failure) throw this.failure;
              if (coordinator.pending > 0 || formatPosition(this.position) !== checkpointed) await checkpoint();
              const targets = new Map([...this.routes].map(([key, route]) => [key, route.target]));
              await this.args.onDdl?.({ statement: tx.ddl.statement, database: tx.ddl.database, position: tx.position, commitTimeMs: tx.commitTimeMs }, targets);
              const reshaped: string[] = [];
              for (const [key, target] of targets) {
                const route = this.routes.get(key);
                if (!route) continue;
                if (route.target !== target) reshaped.push(key);
                route.target = target;
              }
              this.position = tx.position;
              await checkpoint();
              const restarted = await this.followDdlInSnapshots(tx.position, reshaped);
              if (restarted.length > 0) {
                // The new plans are checkpointed before their tables are emptied: a restart in between
                // finds plans with nothing read, and empties their tables itself (see JobRunner).
                await checkpoint();
                for (const key of restarted) await this.args.warehouse!.emptyTable(this.routes.get(key)!.target);
              }
              this.loadsHeld = false;
              continue;
            }
            for (const t of tx.tables) {
              const route = this.routes.get(`${t.database}.${t.table}`);
              if (!route) continue;
              if (route.plan && needsWeights(route.plan)) await this.weighKeys(route, t.changes);
              const changes = this.take(route, tx.partial === true, tx.position, t.changes);
              if (changes.length === 0) continue;
              const key = `${route.target.schema}.${route.target.table}`;
              let entry = byTable.get(key);
              if (!entry) byTable.set(key, (entry = { target: route.target, changes: [] }));
              for (const change of changes) entry.changes.push(change);
            }
            if (!tx.partial && comparePositions(tx.position, this.taken) > 0) this.taken = tx.position;
            newestCommitMs = tx.commitTimeMs;
            lastData = tx;
          }
          await flush();
          metrics.caughtUp = false;
        } else {
          metrics.caughtUp = coordinator.pending === 0;
        }
        if (midTransaction) continue;
        if (coordinator.due() && (coordinator.pending > 0 || formatPosition(this.position) !== checkpointed || this.rangesLoadedSinceCheckpoint)) await checkpoint();
        if (this.args.onTick && Date.now() - lastTick >= (this.args.tickEveryMs ?? 5_000)) {
          lastTick = Date.now();
          await this.args.onTick();
        }
        if (this.joinRequests.length > 0) reader = await this.join(reader, this.position);
        else if (this.snapshotting()) this.startLoads();
      }
      // A clean stop lets the range loads in flight finish and completes the interval in hand,
      // so nothing is redone on resume (unless it stopped inside a huge transaction: that is read again).
      this.loadsHeld = true;
      await this.settleAllLoads();
      if (!midTransaction && !this.failure && (coordinator.pending > 0 || formatPosition(this.position) !== checkpointed)) await checkpoint();
    } finally {
      this.loadsHeld = true;
      await this.settleAllLoads();
      for (const route of this.routes.values()) await route.weigher?.close();
      await reader.stop().catch((error: unknown) => log.warn("binlog reader did not stop cleanly", { error }));
    }
  }

  /**
   * After a DDL statement at `position`, while snapshots are in progress: ranges still to be read
   * select the source's columns as they now are, and a table whose warehouse shape changed after
   * some of its ranges were read from past the statement starts its snapshot over. Those reads
   * saw the new shape through the old column list, and the changes between the statement and
   * the read (to a new column, say) are skipped as part of the read. Returns the restarted tables.
   */
  private async followDdlInSnapshots(position: BinlogPosition, reshaped: string[]): Promise<string[]> {
    const restarted: string[] = [];
    for (const [key, route] of this.routes) {
      if (!route.plan || !route.schema || !this.args.snapshotTable) continue;
      const readPast = route.plan.chunks.some((c) => c.readAt !== undefined && comparePositions(c.readAt, position) > 0);
      if (reshaped.includes(key) && readPast) {
        const fresh = await this.args.snapshotTable(key, route.target.keyColumns);
        if (!fresh.plan) throw new Error(`No new snapshot plan for ${key}`);
        this.dropPlan(route);
        route.plan = fresh.plan;
        route.schema = fresh.schema;
        route.snapshotDone = false;
        restarted.push(key);
        await this.args.onSnapshotRestart?.(key);
        this.args.log.info("table snapshot starts over: its shape changed after part of it was read", { table: key, chunks: fresh.plan?.chunks.length });
      } else if (!planDone(route.plan)) {
        route.schema = (await this.args.snapshotTable(key)).schema;
      }
    }
    return restarted;
  }

  /** The changes of a transaction that count for a table: those committed after its start. */
  private take(route: TableRoute, partial: boolean, position: BinlogPosition, changes: RowChange[]): RowChange[] {
    if (!route.after && !route.plan) return changes;
    if (partial) {
      // A transaction in pieces commits after `position` (the last commit before it began): once
      // that is past the table's start and its snapshot's reads, every piece counts as it comes.
      if (this.passedStart(route, position)) {
        const whole = route.pieces.length > 0 ? [...route.pieces, ...changes] : changes;
        route.pieces = [];
        route.after = undefined;
        this.dropPlan(route);
        return whole;
      }
      // Otherwise its commit position, known only at its last piece, decides (held till then).
      for (const c of changes) route.pieces.push(c);
      return [];
    }
    const whole = route.pieces.length > 0 ? [...route.pieces, ...changes] : changes;
    route.pieces = [];
    if (route.after) {
      if (comparePositions(position, route.after) <= 0) return [];
      // Past its start: from here on every transaction counts.
      route.after = undefined;
    }
    if (route.plan) {
      const kept = filterByPlan(route.plan, whole, position, route.weights);
      route.weights?.clear();
      const horizon = planHorizon(route.plan);
      // Past the newest read of a finished snapshot, every change counts.
      if (planDone(route.plan) && horizon && comparePositions(position, horizon) > 0) this.dropPlan(route);
      return kept;
    }
    return whole;
  }

  /** The table's snapshot is behind it: every change counts from here on. */
  private dropPlan(route: TableRoute): void {
    route.plan = undefined;
    route.weights = undefined;
    void route.weigher?.close();
    route.weigher = undefined;
  }

  /**
   * Fetches the collation weights of the keys of these changes from the source (one query per
   * few hundred keys): which key range a character key falls in is the source's collation's call.
   */
  private async weighKeys(route: TableRoute, changes: RowChange[]): Promise<void> {
    const column = route.plan!.keyColumn!;
    const weights = (route.weights ??= new Map());
    const wanted = new Set<string>();
    for (const change of changes) {
      for (const row of change.op === "insert" ? [change.after] : change.op === "delete" ? [change.before] : [change.before, change.after]) {
        const key = String(row[column]);
        if (!weights.has(key)) wanted.add(key);
      }
    }
    if (wanted.size === 0) return;
    route.weigher ??= await CollationWeigher.open(this.args.source, route.plan!.keyOrder!);
    const keys = [...wanted];
    const found = await route.weigher.weigh(keys);
    for (let i = 0; i < keys.length; i++) weights.set(keys[i]!, found[i]!);
  }

  /** Whether every transaction committed after `position` counts for the table. */
  private passedStart(route: TableRoute, position: BinlogPosition): boolean {
    if (route.after && comparePositions(position, route.after) < 0) return false;
    if (route.plan) {
      if (!planDone(route.plan)) return false;
      const horizon = planHorizon(route.plan);
      if (horizon && comparePositions(position, horizon) < 0) return false;
    }
    return true;
  }

  /** Reads in a thread of its own; the tables are fixed per reader (a join starts another reader). */
  private async openReader(from: BinlogPosition): Promise<ThreadedBinlogReader> {
    const reader = new ThreadedBinlogReader({
      source: this.args.source,
      serverId: this.args.serverId,
      startAt: from,
      tables: this.routes.keys(),
      ...(this.args.readerHeapMb ? { heapLimitMb: this.args.readerHeapMb } : {}),
    });
    await reader.start();
    this.reader = reader;
    return reader;
  }

  private async join(reader: ThreadedBinlogReader, position: BinlogPosition): Promise<ThreadedBinlogReader> {
    const requests = this.joinRequests.splice(0);
    // A prepared XA transaction's rows precede its XA COMMIT: the new reader starts back at them.
    const xaFrom = reader.xaReplayFrom(position);
    await reader.stop();
    const snapshot = await ConsistentSnapshot.open(this.args.source);
    const start = snapshot.position;
    // Tables already streaming skip what they handled; joining ones take what follows the snapshot.
    for (const route of this.routes.values()) {
      // A table still inside an earlier join's replay keeps the later of the two starts.
      route.after = route.after && comparePositions(route.after, position) > 0 ? route.after : position;
      route.pieces = [];
    }
    for (const r of requests) {
      this.routes.set(r.key, { target: r.target, after: start, pieces: [] });
      this.joining.add(r.key);
      this.args.coordinator.hold(`${r.target.schema}.${r.target.table}`);
    }
    let replayFrom = comparePositions(start, position) < 0 ? start : position;
    if (xaFrom && comparePositions(xaFrom, replayFrom) < 0) replayFrom = xaFrom;
    this.args.log.info("tables join the running job", { tables: requests.map((r) => r.key), snapshot: formatPosition(start), replayFrom: formatPosition(replayFrom) });
    this.args.copyJoined(snapshot, requests).then(
      () => {
        for (const r of requests) {
          if (!this.routes.has(r.key)) continue;
          this.joining.delete(r.key);
          this.args.coordinator.release(`${r.target.schema}.${r.target.table}`);
        }
        this.args.coordinator.setTables(this.streamingKeys());
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    ).finally(() => void snapshot.close());
    return this.openReader(replayFrom);
  }
}
