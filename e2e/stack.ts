// What the specs know about the stack global-setup started.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import mysql from "mysql2/promise";

export interface E2EStack {
  webUrl: string;
  admin: { username: string; password: string };
  source: { host: string; port: number; user: string; password: string };
  env: Record<string, string>;
}

export const E2E_DIR = resolve(import.meta.dirname, "../.test-data/e2e");

export function e2eStack(): E2EStack {
  return JSON.parse(readFileSync(resolve(E2E_DIR, "stack.json"), "utf8")) as E2EStack;
}

/** A root connection to the private source server. */
export function sourceRoot(stack: E2EStack): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: "127.0.0.1",
    port: stack.source.port,
    user: "root",
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
}
