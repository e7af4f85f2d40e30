// Order-independent fingerprints of sets of rows, in the canonical Row
// encoding both the source reader and the warehouse produce.
import { createHash } from "node:crypto";
import type { Row } from "@tide/contracts";

export function canonicalRow(row: Row): string {
  return JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => {
        const v = row[k];
        return [k, v instanceof Uint8Array ? `hex:${Buffer.from(v).toString("hex")}` : typeof v === "bigint" ? v.toString() : v];
      }),
  );
}

/** Count and a 64-bit sum of row hashes: equal sets of rows give equal digests, in any order. */
export function digestRows(rows: Row[]): { rows: number; checksum: string } {
  let sum = 0n;
  for (const row of rows) sum = (sum + BigInt(`0x${createHash("sha256").update(canonicalRow(row)).digest("hex").slice(0, 16)}`)) & 0xffffffffffffffffn;
  return { rows: rows.length, checksum: sum.toString(16) };
}
