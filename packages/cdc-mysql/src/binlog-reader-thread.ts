// The binlog reader's own thread (see ThreadedBinlogReader): it receives and
// decodes the binlog, and posts whole transactions in their compact form while
// the applying thread is busy with the warehouse. Posted rows not yet taken by
// the applier are bounded, so memory stays bounded when the warehouse is slow.
import { parentPort, workerData } from "node:worker_threads";
import { BinlogReader } from "./binlog-reader";
import { encodeTransaction } from "./change-encoding";
import { toSourceError } from "./source-error";
import type { ReaderThreadData, ToReaderThread, FromReaderThread, ReaderStatus } from "./threaded-binlog-reader";

/** Rows posted and not yet taken by the applier, at most; the reader pauses its connection beyond its own bound. */
const IN_FLIGHT_ROWS = 20_000;
/** Decoded rows the reader itself holds before pausing its connection (rows posted are held on the other side). */
const HOLD_ROWS = 10_000;
/** Transactions taken from the reader per message, in rows (at least one transaction). */
const MESSAGE_ROWS = 10_000;
const IDLE_WAIT_MS = 50;
/** How often the reader's status is posted when no transaction is (for lag on an idle source). */
const STATUS_EVERY_MS = 250;

const port = parentPort!;
const data = workerData as ReaderThreadData;
const tables = data.tables ? new Set(data.tables) : undefined;
const reader = new BinlogReader({
  source: data.source,
  serverId: data.serverId,
  startAt: data.startAt,
  holdRows: HOLD_ROWS,
  includeTable: (database, table) => !tables || tables.has(`${database}.${table}`),
});

let inFlight = 0;
let stopping = false;
let credit: (() => void) | undefined;

const post = (message: FromReaderThread) => port.postMessage(message);
const status = (): ReaderStatus => ({
  received: reader.receivedPosition,
  lastContactMs: reader.lastContactMs,
  fetchLagMs: reader.fetchLagMs,
  bytesReceived: reader.bytesReceived,
  xaSpans: reader.xaSpanEntries(),
});

port.on("message", (message: ToReaderThread) => {
  if (message.type === "taken") {
    inFlight -= message.rows;
    if (inFlight < IN_FLIGHT_ROWS) credit?.();
  } else if (message.type === "forget-xa-before") {
    reader.xaReplayFrom(message.position);
  } else if (message.type === "stop") {
    stopping = true;
    credit?.();
  }
});

async function run(): Promise<void> {
  await reader.start();
  post({ type: "started", status: status() });
  let lastStatus = Date.now();
  while (!stopping) {
    if (inFlight >= IN_FLIGHT_ROWS) {
      await new Promise<void>((resolve) => (credit = resolve));
      credit = undefined;
      continue;
    }
    const transactions = await reader.poll(MESSAGE_ROWS, IDLE_WAIT_MS);
    if (transactions.length > 0) {
      const encoded = transactions.map(encodeTransaction);
      for (const tx of encoded) inFlight += tx.rows;
      post({ type: "transactions", transactions: encoded, status: status() });
      lastStatus = Date.now();
    } else if (Date.now() - lastStatus >= STATUS_EVERY_MS) {
      post({ type: "status", status: status() });
      lastStatus = Date.now();
    }
  }
}

run()
  .catch((error: unknown) => {
    const failure = toSourceError(error, reader.receivedPosition);
    post({ type: "failed", error: { kind: failure.kind, reason: failure.reason, message: failure.message } });
  })
  .finally(async () => {
    await reader.stop().catch(() => undefined);
    post({ type: "stopped" });
    port.close();
  });
