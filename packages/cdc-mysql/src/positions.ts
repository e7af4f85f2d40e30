// Binlog positions for the startup modes that skip the snapshot.
import type { BinlogPosition } from "@tide/contracts";
import type { RowDataPacket } from "mysql2/promise";
import { BinlogReader } from "./binlog-reader";
import { openConnection, type SourceConnectionConfig } from "./connection";
import { SourceError, toSourceError } from "./source-error";

async function query<T extends RowDataPacket>(config: SourceConnectionConfig, sql: string): Promise<T[]> {
  let opened;
  try {
    opened = await openConnection(config);
  } catch (error) {
    throw toSourceError(error);
  }
  try {
    const [rows] = await opened.conn.query<T[]>(sql);
    return rows;
  } catch (error) {
    throw toSourceError(error);
  } finally {
    await opened.conn.end().catch(() => undefined);
  }
}

/** The end of the binlog now (`latest-offset`). */
export async function currentPosition(config: SourceConnectionConfig): Promise<BinlogPosition> {
  const [status] = await query(config, "SHOW MASTER STATUS");
  if (!status) throw new SourceError("fatal", "binlog_off", "The source writes no binlog (SHOW MASTER STATUS is empty): enable log-bin");
  return { file: String(status.File), pos: Number(status.Position) };
}

/**
 * The position just before the first transaction committed at or after
 * `timestampMs` (`timestamp` mode), found by reading the binlog from its oldest
 * file. Binlog timestamps have one-second resolution, so the comparison is on
 * whole seconds, rounding the start down.
 */
export async function findPositionAt(config: SourceConnectionConfig, serverId: number, timestampMs: number): Promise<BinlogPosition> {
  const logs = await query(config, "SHOW BINARY LOGS");
  const oldest = logs[0];
  if (!oldest) throw new SourceError("fatal", "binlog_off", "The source writes no binlog: enable log-bin");
  const end = await currentPosition(config);
  const startSecond = Math.floor(timestampMs / 1000) * 1000;
  const reader = new BinlogReader({ source: config, serverId, startAt: { file: String(oldest.Log_name), pos: 4 }, includeTable: () => true });
  await reader.start();
  try {
    let before: BinlogPosition = { file: String(oldest.Log_name), pos: 4 };
    for (;;) {
      const transactions = await reader.poll(50_000, 500);
      for (const tx of transactions) {
        if (tx.partial) continue;
        if (tx.commitTimeMs >= startSecond) return before;
        before = tx.position;
      }
      const at = reader.receivedPosition;
      const reachedEnd = at.file === end.file ? at.pos >= end.pos : Number(at.file.split(".").pop()) > Number(end.file.split(".").pop());
      if (transactions.length === 0 && reachedEnd) return before;
    }
  } finally {
    await reader.stop();
  }
}
