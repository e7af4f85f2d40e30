// DDL as MySQL's and MariaDB's manuals write it, parsed into typed changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDdl } from "../src";

test("column changes, several in one ALTER, with backquotes, schema names and comments", () => {
  assert.deepEqual(
    parseDdl("ALTER TABLE /* add things */ `shop`.`orders` ADD COLUMN `note` VARCHAR(20) DEFAULT 'x' AFTER id, DROP COLUMN old, RENAME COLUMN a TO b", "other"),
    [
      { kind: "add_column", database: "shop", table: "orders", column: { name: "note", mysqlType: "varchar(20)", nullable: true, defaultValue: "x" }, position: { after: "id" } },
      { kind: "drop_column", database: "shop", table: "orders", column: "old" },
      { kind: "rename_column", database: "shop", table: "orders", from: "a", to: "b" },
    ],
  );
  assert.deepEqual(parseDdl("ALTER TABLE t ADD x INT FIRST", "shop"), [
    { kind: "add_column", database: "shop", table: "t", column: { name: "x", mysqlType: "int", nullable: true }, position: { first: true } },
  ]);
  assert.deepEqual(parseDdl("ALTER TABLE t ADD y DECIMAL(12,2) NOT NULL DEFAULT 0", "shop")[0], {
    kind: "add_column", database: "shop", table: "t", column: { name: "y", mysqlType: "decimal(12,2)", nullable: false, defaultValue: "0" },
  });
});

test("type changes: MODIFY and CHANGE (with a rename)", () => {
  assert.deepEqual(parseDdl("ALTER TABLE t MODIFY COLUMN qty BIGINT UNSIGNED NOT NULL", "s"), [
    { kind: "modify_column", database: "s", table: "t", column: "qty", definition: { name: "qty", mysqlType: "bigint unsigned", nullable: false } },
  ]);
  assert.deepEqual(parseDdl("ALTER TABLE t CHANGE c d INT", "s"), [
    { kind: "modify_column", database: "s", table: "t", column: "c", newName: "d", definition: { name: "d", mysqlType: "int", nullable: true } },
  ]);
});

test("table-level changes and statements that leave the columns alone", () => {
  assert.deepEqual(parseDdl("RENAME TABLE a TO b", "s"), [{ kind: "rename_table", database: "s", table: "a", toDatabase: "s", toTable: "b" }]);
  assert.deepEqual(parseDdl("ALTER TABLE a RENAME TO b", "s"), [{ kind: "rename_table", database: "s", table: "a", toDatabase: "s", toTable: "b" }]);
  assert.deepEqual(parseDdl("TRUNCATE TABLE s2.t", "s"), [{ kind: "truncate_table", database: "s2", table: "t" }]);
  assert.deepEqual(parseDdl("CREATE TABLE t (id INT PRIMARY KEY)", "s"), [{ kind: "create_table", database: "s", table: "t" }]);
  assert.deepEqual(parseDdl("DROP TABLE t", "s"), [{ kind: "drop_table", database: "s", table: "t" }]);
  for (const sql of ["ALTER TABLE t ADD INDEX (x)", "ALTER TABLE t COMMENT = 'hi'", "ALTER TABLE t ENGINE=InnoDB"]) {
    const [change] = parseDdl(sql, "s");
    assert.equal(change?.kind, "ignored", sql);
  }
  assert.deepEqual(parseDdl("INSERT INTO t VALUES (1)", "s"), []);
  assert.deepEqual(parseDdl("BEGIN", "s"), []);
});
