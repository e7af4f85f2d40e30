export { Warehouse, type TableChangeBatch } from "./warehouse";
export { quoteIdent, qualified } from "./sql";
export { planColumn } from "./type-mapping";
export { EmbeddedSink } from "./embedded-sink";
export type { ColumnChange, ColumnChangeResult } from "./schema-change";
export { classifyTypeChange, type TypeChangeClass } from "./type-change";
export { readExpression, readValue } from "./value-codec";
