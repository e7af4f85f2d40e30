import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalMariadb } from "../src/index";

test("a private mariadbd starts with the binlog settings CDC needs, survives kill -9 and restarts", async () => {
  const server = await LocalMariadb.start({ dataDir: ".test-data/local-mariadb", fresh: true });
  try {
    const [settings] = (await server.sql(
      "SELECT @@log_bin AS logBin, @@binlog_format AS format, @@binlog_row_image AS image, @@binlog_row_metadata AS metadata",
    )) as Record<string, unknown>[];
    assert.deepEqual(settings, { logBin: "1", format: "ROW", image: "FULL", metadata: "FULL" });
    await server.sql("CREATE DATABASE t; CREATE TABLE t.a (id INT PRIMARY KEY); INSERT INTO t.a VALUES (1)");
    await server.kill();
    await server.launch();
    const rows = (await server.sql("SELECT id FROM t.a")) as { id: number }[];
    assert.deepEqual(rows, [{ id: 1 }]);
  } finally {
    await server.stop();
  }
});
