// Light schema change in the warehouse: a source's column change applied to
// its warehouse table as DuckDB DDL (adding, dropping and renaming a column
// touch metadata only; a type change rewrites just that column).
import type { ColumnSchema } from "@tide/contracts";

export type ColumnChange =
  | { kind: "add_column"; column: ColumnSchema; defaultValue?: string }
  | { kind: "drop_column"; column: string }
  | { kind: "rename_column"; from: string; to: string }
  | {
      kind: "modify_column";
      column: string;
      newName?: string;
      definition: ColumnSchema;
      /** When the values already stored cannot take the new type: fail (default), or keep them in a renamed column and add the column anew. */
      onFailure?: "fail" | "new_column";
    }
  | { kind: "truncate_table" };

export interface ColumnChangeResult {
  /** False when the table already had the change (a replay after a crash). */
  applied: boolean;
  detail: string;
  durationMs: number;
  columnsBefore: ColumnSchema[];
  columnsAfter: ColumnSchema[];
}
