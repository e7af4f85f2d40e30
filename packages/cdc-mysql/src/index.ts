export { type SourceConnectionConfig, quoteIdent } from "./connection";
export { SourceError, toSourceError } from "./source-error";
export { checkSource, connectionProblem } from "./source-checks";
export { discoverTables, readTableSchema } from "./discovery";
export { ConsistentSnapshot, type KeyRange } from "./consistent-snapshot";
export { BinlogReader, type BinlogReaderOptions } from "./binlog-reader";
export { normaliserFor, rowNormaliser } from "./values";
export { keySplitPoints, tableStats } from "./table-stats";
export { currentPosition, findPositionAt } from "./positions";
