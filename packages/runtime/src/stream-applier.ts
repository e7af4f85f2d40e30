// Follows the binlog from a checkpoint and loads each table's changes through
// the checkpoint coordinator: written as they arrive, visible at the next
// checkpoint (default every second), exactly once.
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
import { BinlogReader, ConsistentSnapshot, type SourceConnectionConfig } from "@tide/cdc-mysql";
import { comparePositions, formatPosition, type BinlogPosition, type RowChange, type SinkTableSpec, type SourceTransaction, type TableSchema } from "@tide/contracts";
import type { DdlEvent } from "./schema-evolution";
import type { Warehouse } from "@tide/warehouse";
import { filterByPlan, loadChunk, planDone, planHorizon, type TableSnapshotPlan } from "./chunked-snapshot";
import { crashPoint } from "./crash-points";
import type { CheckpointCoordinator } from "./checkpoint-coordinator";
import type { JobMetrics } from "./job-metrics";
import type { Logger } from "./logger";

/** Changes taken per poll, at most (whole source transactions are never split). */
const MAX_BATCH_ROWS = 20_000;
/** How long a poll waits for the first transaction: bounds the extra latency of an idle stream. */
const POLL_WAIT_MS = 50;

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
}

export class ChangeStream {
  private readonly routes = new Map<string, TableRoute>();
  private readonly joining = new Set<string>();
  private readonly joinRequests: JoinRequest[] = [];
  private failure: unknown;

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
      /** Tables whose chunked snapshot is in progress (by `db.table`); their ranges are loaded between polls. */
      snapshots?: Map<string, { schema: TableSchema; plan: TableSnapshotPlan }>;
      warehouse?: Warehouse;
      /** After each loaded range; `tableDone` when the table's last range is in. */
      onChunkLoaded?: (key: string, rows: number, tableDone: boolean) => Promise<void>;
      onSnapshotRows?: (rows: number) => void;
      /** Per-table start positions restored from the checkpoint (see CheckpointDetails.startAfter). */
      startAfter?: Record<string, BinlogPosition>;
      /** A DDL statement in the binlog; may replace entries of `targets` (followed table → warehouse table). */
      onDdl?: (event: DdlEvent, targets: Map<string, SinkTableSpec>) => Promise<void>;
    },
  ) {
    for (const [key, target] of args.targets) {
      const snapshot = args.snapshots?.get(key);
      this.routes.set(key, { target, pieces: [], ...(snapshot ? { plan: snapshot.plan, schema: snapshot.schema } : {}) });
    }
    for (const [key, after] of Object.entries(args.startAfter ?? {})) {
      const route = this.routes.get(key);
      if (route && comparePositions(after, args.from) > 0) route.after = after;
    }
    args.coordinator.snapshotProgress = () => this.snapshotProgress();
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

  private async loadNextChunk(position: BinlogPosition): Promise<void> {
    for (const [key, route] of this.routes) {
      const plan = route.plan;
      const chunk = plan?.chunks.find((c) => c.readAt === undefined);
      if (!plan || !chunk || !route.schema || !this.args.warehouse) continue;
      const started = performance.now();
      await loadChunk({
        onWriteMs: (ms) => {
          this.args.metrics.snapshotWriteMs += ms;
        },
        source: this.args.source,
        schema: route.schema,
        target: route.target,
        plan,
        chunk,
        notBefore: position,
        warehouse: this.args.warehouse,
        onBatch: (rows) => this.args.onSnapshotRows?.(rows),
      });
      this.args.metrics.snapshotChunkMs += performance.now() - started;
      this.args.metrics.snapshotChunksDone += 1;
      crashPoint("during-snapshot");
      await this.args.onChunkLoaded?.(key, chunk.rows ?? 0, planDone(plan));
      return;
    }
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
    let reader = await this.openReader(this.args.from);
    let position: BinlogPosition = this.args.from;
    let checkpointed = formatPosition(position);
    // Inside a transaction handed out in pieces: no checkpoint (or join) until its last piece.
    let midTransaction = false;
    let lastTick = Date.now();
    const checkpoint = async () => {
      const started = performance.now();
      const visible = await coordinator.checkpoint(position);
      checkpointed = formatPosition(position);
      if (visible.newestCommitMs !== undefined) metrics.recordApply(visible.rows, visible.newestCommitMs, true, (performance.now() - started) / 1000);
      metrics.position = checkpointed;
    };
    try {
      metrics.state = "streaming";
      metrics.position = checkpointed;
      await this.args.onStreaming();
      while (!signal.aborted) {
        if (this.failure) throw this.failure;
        // While key ranges remain to be read, do not idle waiting for the binlog.
        const transactions = await reader.poll(MAX_BATCH_ROWS, this.snapshotting() ? 0 : POLL_WAIT_MS);
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
            if (lastData && comparePositions(lastData.position, position) > 0) position = lastData.position;
            midTransaction = lastData?.partial === true;
            lastData = undefined;
          };
          for (const tx of transactions) {
            if (tx.ddl) {
              // The source's shape changes here: what came before becomes visible in the old shape first.
              await flush();
              if (comparePositions(tx.position, position) <= 0) continue; // replayed: handled before
              if (coordinator.pending > 0 || formatPosition(position) !== checkpointed) await checkpoint();
              const targets = new Map([...this.routes].map(([key, route]) => [key, route.target]));
              await this.args.onDdl?.({ statement: tx.ddl.statement, database: tx.ddl.database, position: tx.position, commitTimeMs: tx.commitTimeMs }, targets);
              for (const [key, target] of targets) {
                const route = this.routes.get(key);
                if (route) route.target = target;
              }
              position = tx.position;
              await checkpoint();
              continue;
            }
            for (const t of tx.tables) {
              const route = this.routes.get(`${t.database}.${t.table}`);
              if (!route) continue;
              const changes = this.take(route, tx.partial === true, tx.position, t.changes);
              if (changes.length === 0) continue;
              const key = `${route.target.schema}.${route.target.table}`;
              let entry = byTable.get(key);
              if (!entry) byTable.set(key, (entry = { target: route.target, changes: [] }));
              for (const change of changes) entry.changes.push(change);
            }
            newestCommitMs = tx.commitTimeMs;
            lastData = tx;
          }
          await flush();
          metrics.caughtUp = false;
        } else {
          metrics.caughtUp = coordinator.pending === 0;
        }
        if (midTransaction) continue;
        if (coordinator.due() && (coordinator.pending > 0 || formatPosition(position) !== checkpointed)) await checkpoint();
        if (this.args.onTick && Date.now() - lastTick >= (this.args.tickEveryMs ?? 5_000)) {
          lastTick = Date.now();
          await this.args.onTick();
        }
        if (this.joinRequests.length > 0) reader = await this.join(reader, position);
        else if (this.snapshotting()) await this.loadNextChunk(position);
      }
      // A clean stop completes the interval in hand, so nothing is redone on resume
      // (unless it stopped inside a huge transaction: that is read again).
      if (!midTransaction && (coordinator.pending > 0 || formatPosition(position) !== checkpointed)) await checkpoint();
    } finally {
      await reader.stop().catch((error: unknown) => log.warn("binlog reader did not stop cleanly", { error }));
    }
  }

  /** The changes of a transaction that count for a table: those committed after its start. */
  private take(route: TableRoute, partial: boolean, position: BinlogPosition, changes: RowChange[]): RowChange[] {
    if (!route.after && !route.plan) return changes;
    if (partial) {
      // The commit position of a transaction in pieces is known only at its last piece.
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
      const kept = filterByPlan(route.plan, whole, position);
      const horizon = planHorizon(route.plan);
      // Past the newest read of a finished snapshot, every change counts.
      if (planDone(route.plan) && horizon && comparePositions(position, horizon) > 0) route.plan = undefined;
      return kept;
    }
    return whole;
  }

  private async openReader(from: BinlogPosition): Promise<BinlogReader> {
    const reader = new BinlogReader({
      source: this.args.source,
      serverId: this.args.serverId,
      startAt: from,
      includeTable: (database, table) => this.routes.has(`${database}.${table}`),
    });
    await reader.start();
    return reader;
  }

  private async join(reader: BinlogReader, position: BinlogPosition): Promise<BinlogReader> {
    const requests = this.joinRequests.splice(0);
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
    const replayFrom = comparePositions(start, position) < 0 ? start : position;
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
