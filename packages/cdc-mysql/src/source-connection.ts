// One piece of work on a connection of its own: failures, connecting included,
// become SourceErrors (classified for retries), and the connection is closed after.
import type { Connection } from "mysql2/promise";
import { openConnection, type SourceConnectionConfig } from "./connection";
import { toSourceError } from "./source-error";

export async function withSourceConnection<T>(config: SourceConnectionConfig, work: (conn: Connection) => Promise<T>): Promise<T> {
  let opened;
  try {
    opened = await openConnection(config);
  } catch (error) {
    throw toSourceError(error);
  }
  try {
    return await work(opened.conn);
  } catch (error) {
    throw toSourceError(error);
  } finally {
    await opened.conn.end().catch(() => undefined);
  }
}
