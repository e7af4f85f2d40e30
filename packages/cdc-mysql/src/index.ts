export { type SourceConnectionConfig, quoteIdent } from "./connection";
export { SourceError, toSourceError } from "./source-error";
export { checkSource, connectionProblem } from "./source-checks";
export { discoverTables, readTableSchema } from "./discovery";
export { ConsistentSnapshot, type KeyRange } from "./consistent-snapshot";
export { BinlogReader, type BinlogReaderOptions } from "./binlog-reader";
// The threaded binlog reader is its own entry, @tide/cdc-mysql/threaded-binlog-reader: the console imports
// this one, and its bundler must not follow the reader thread's module into the web app.
export { normaliserFor, rowNormaliser } from "./values";
export { keySplitPoints, tableStats } from "./table-stats";
export { CollationWeigher, compareWeights, keyOrderKind, keySplitValues, readKeyOrder, type KeyOrder, type KeyOrderKind } from "./key-order";
export { currentPosition, findPositionAfterGtid, findPositionAt } from "./positions";
export { parseDdl, type SchemaChange, type SchemaChangeKind, type ColumnDefinition } from "./ddl-parser";
