// The key that encrypts source passwords: generated into the data directory
// (0600) when TIDE_SECRET_KEY is unset and reused afterwards, so stored
// passwords stay readable across restarts; an explicit key wins; a bad one is
// refused with a message that names the variable but not the value.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadServerConfig } from "../src";

const DIR = resolve(import.meta.dirname, "../../../.test-data/config-secret-key");
// Never connected to: loading the configuration only validates the URL.
const DATABASE_URL = "mysql://root@127.0.0.1:1/tide";

beforeEach(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
});

const load = (extra: Record<string, string> = {}) => loadServerConfig({ DATABASE_URL, TIDE_DATA_DIR: DIR, ...extra });

test("without TIDE_SECRET_KEY a key is generated on first load (mode 0600) and reused on the next", () => {
  const file = join(DIR, "secret.key");
  assert.equal(existsSync(file), false);
  const first = load().secretKey;
  assert.equal(first.length, 32);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const stored = readFileSync(file, "utf8");
  assert.deepEqual(Buffer.from(stored.trim(), "base64"), first);

  const second = load().secretKey;
  assert.deepEqual(second, first);
  assert.equal(readFileSync(file, "utf8"), stored, "the file must not be rewritten");

  // A fresh data directory gets a different key: it is random, not derived.
  rmSync(DIR, { recursive: true, force: true });
  assert.notDeepEqual(load().secretKey, first);
});

test("TIDE_SECRET_KEY as hex or base64 overrides the generated key and writes no file", () => {
  const raw = randomBytes(32);
  assert.deepEqual(load({ TIDE_SECRET_KEY: raw.toString("hex") }).secretKey, raw);
  assert.deepEqual(load({ TIDE_SECRET_KEY: raw.toString("hex").toUpperCase() }).secretKey, raw);
  assert.deepEqual(load({ TIDE_SECRET_KEY: raw.toString("base64") }).secretKey, raw);
  assert.deepEqual(load({ TIDE_SECRET_KEY: raw.toString("base64url") }).secretKey, raw);
  assert.deepEqual(load({ TIDE_SECRET_KEY: `  ${raw.toString("base64")}\n` }).secretKey, raw);
  assert.equal(existsSync(join(DIR, "secret.key")), false);

  // Set after a key was generated, the variable still wins.
  const generated = load().secretKey;
  assert.deepEqual(load({ TIDE_SECRET_KEY: raw.toString("hex") }).secretKey, raw);
  assert.notDeepEqual(generated, raw);
});

test("a malformed key is refused with a clear error that does not echo it", () => {
  const raw = randomBytes(32);
  const b64 = raw.toString("base64");
  const bad = [
    "",
    "not-a-key",
    raw.toString("hex").slice(0, 62), // 31 bytes of hex
    `${raw.toString("hex")}00`, // 33 bytes of hex
    randomBytes(16).toString("base64"), // too short
    randomBytes(48).toString("base64"), // too long
    `${b64.slice(0, 20)}$${b64.slice(20)}`, // a stray character Node's decoder would skip over
  ];
  for (const value of bad) {
    assert.throws(
      () => load({ TIDE_SECRET_KEY: value }),
      (error: Error) => {
        assert.match(error.message, /^TIDE_SECRET_KEY must be 32 bytes, as 64 hex digits or base64/);
        if (value.length > 0) assert.ok(!error.message.includes(value), error.message);
        return true;
      },
      `accepted ${JSON.stringify(value)}`,
    );
  }
});

test("a damaged generated key file is refused, naming the file", () => {
  load();
  writeFileSync(join(DIR, "secret.key"), "garbage\n", { mode: 0o600 });
  assert.throws(() => load(), new RegExp(`The key in ${join(DIR, "secret.key").replaceAll("/", "\\/")} must be 32 bytes`));
});
