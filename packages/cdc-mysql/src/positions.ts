// Binlog positions for the startup modes that skip the snapshot.
import type { BinlogPosition } from "@tide/contracts";
import type { RowDataPacket } from "mysql2/promise";
import { BinlogReader } from "./binlog-reader";
import type { SourceConnectionConfig } from "./connection";
import { withSourceConnection } from "./source-connection";
import { SourceError } from "./source-error";

async function query<T extends RowDataPacket>(config: SourceConnectionConfig, sql: string): Promise<T[]> {
  return withSourceConnection(config, async (conn) => (await conn.query<T[]>(sql))[0]);
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

/** A MariaDB GTID: replication domain, server id, sequence number ("0-1-1234"). */
const MARIADB_GTID = /^(\d+)-(\d+)-(\d+)$/;

/**
 * The position just after the transaction with MariaDB GTID `gtid` (`specific-offset` with a GTID):
 * the binlog file that holds it is found from the GTID lists at the head of each file (the state
 * before the file), and its events are then read with SHOW BINLOG EVENTS up to the next transaction.
 * A set of one GTID per replication domain is accepted when it names one domain; several domains
 * have no single position at which all of them end, so they are refused, as are MySQL's GTID sets.
 */
export async function findPositionAfterGtid(config: SourceConnectionConfig, gtidSet: string): Promise<BinlogPosition> {
  const parts = gtidSet.split(",").map((p) => p.trim()).filter(Boolean);
  if (parts.length !== 1 || !MARIADB_GTID.test(parts[0]!)) {
    throw new SourceError(
      "fatal",
      "bad_gtid",
      `The GTID position ${JSON.stringify(gtidSet)} is not one MariaDB GTID such as 0-1-1234 (positions over several replication domains, and MySQL GTID sets, have no single binlog position: give the binlog file and position instead)`,
    );
  }
  const gtid = parts[0]!;
  const [, domain, , seq] = MARIADB_GTID.exec(gtid)!.map(Number) as [number, number, number, number];
  return withSourceConnection(config, async (conn) => {
    const [logs] = await conn.query<RowDataPacket[]>("SHOW BINARY LOGS");
    const files = logs.map((l) => String(l.Log_name));
    if (files.length === 0) throw new SourceError("fatal", "binlog_off", "The source writes no binlog: enable log-bin");
    // The domain's last sequence number before each file (its Gtid_list event); the GTID is in the last file that starts before it.
    let holder: number | undefined;
    for (let i = 0; i < files.length; i++) {
      const [head] = await conn.query<RowDataPacket[]>(`SHOW BINLOG EVENTS IN ${conn.escape(files[i])} LIMIT 4`);
      const list = head.find((e) => String(e.Event_type) === "Gtid_list");
      const before = new RegExp(`(?:^|[\\[,])${domain}-\\d+-(\\d+)`).exec(String(list?.Info ?? ""));
      if (before && Number(before[1]) >= seq) break;
      holder = i;
    }
    if (holder === undefined) throw new SourceError("fatal", "binlog_purged", `The source's binlog no longer holds GTID ${gtid}: it was purged`);
    const file = files[holder]!;
    let found = false;
    for (let from = 4; ; ) {
      const [events] = await conn.query<RowDataPacket[]>(`SHOW BINLOG EVENTS IN ${conn.escape(file)} FROM ${from} LIMIT 10000`);
      for (const e of events) {
        if (String(e.Event_type) !== "Gtid") continue;
        if (found) return { file, pos: Number(e.Pos) };
        if (new RegExp(`^(?:BEGIN )?GTID ${gtid}\\b`).test(String(e.Info))) found = true;
      }
      if (events.length < 10_000) break;
      from = Number(events[events.length - 1]!.End_log_pos);
    }
    if (!found) throw new SourceError("fatal", "bad_gtid", `The source's binlog has no transaction with GTID ${gtid} (not written yet?)`);
    // The GTID's transaction is the last of its file: the next file starts after it, or the binlog ends there.
    if (holder + 1 < files.length) return { file: files[holder + 1]!, pos: 4 };
    const [[status]] = await conn.query<RowDataPacket[]>("SHOW MASTER STATUS");
    return { file: String(status!.File), pos: Number(status!.Position) };
  });
}
