// The worker's JSON logger: secrets must not reach a log line however deep they
// sit in the fields (nested objects, arrays, error causes, URLs in messages).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../src/logger";

const SECRET = "hunter2-very-secret";

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ component: "test" }, (l) => lines.push(l)) };
}

test("a password nested in objects, arrays and error causes is redacted; other fields stay", () => {
  const { lines, log } = capture();
  const cause = Object.assign(new Error("connect refused"), { cause: { source: { host: "db", password: SECRET } } });
  log.error("job failed", {
    job: "shop-demo",
    spec: { source: { hostname: "127.0.0.1", port: 3306, password: SECRET }, tables: [{ name: "t", auth: { token: SECRET } }] },
    error: new Error("start failed", { cause }),
    url: `mysql://cdc:${SECRET}@127.0.0.1:3306/shop`,
  });
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.ok(!line.includes(SECRET), line);
  const parsed = JSON.parse(line) as Record<string, any>;
  assert.equal(parsed.level, "error");
  assert.equal(parsed.job, "shop-demo");
  assert.equal(parsed.spec.source.hostname, "127.0.0.1");
  assert.equal(parsed.spec.source.password, "[redacted]");
  assert.equal(parsed.spec.tables[0].auth.token, "[redacted]");
  assert.equal(parsed.error.message, "start failed");
  assert.equal(parsed.error.cause.message, "connect refused");
  assert.equal(parsed.error.cause.cause.source.password, "[redacted]");
  assert.equal(parsed.url, "mysql://cdc:[redacted]@127.0.0.1:3306/shop");
});

test("child loggers redact their base fields; errors without a cause stay a message; cycles do not hang", () => {
  const { lines, log } = capture();
  const looped: Record<string, unknown> = { name: "a" };
  looped.self = looped;
  log.child({ db: { user: "tide", secretKey: SECRET } }).warn(`retrying postgres://u:${SECRET}@h/db`, { error: new Error("boom"), looped, n: 5n });
  const line = lines[0]!;
  assert.ok(!line.includes(SECRET), line);
  const parsed = JSON.parse(line) as Record<string, any>;
  assert.equal(parsed.db.user, "tide");
  assert.equal(parsed.db.secretKey, "[redacted]");
  assert.equal(parsed.error, "boom");
  assert.equal(parsed.looped.self, "[circular]");
  assert.equal(parsed.n, "5");
  assert.match(parsed.msg, /postgres:\/\/u:\[redacted\]@h\/db/);
});
