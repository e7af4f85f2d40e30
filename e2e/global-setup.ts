// Starts the whole stack once for the browser tests and writes how to reach it
// to .test-data/e2e/stack.json; the returned function stops it again.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { freePort } from "@tide/local-mariadb";
import { startLocalStack } from "../scripts/lib/local-stack";

export const E2E_DIR = resolve(import.meta.dirname, "../.test-data/e2e");

export default async function globalSetup(): Promise<() => Promise<void>> {
  rmSync(E2E_DIR, { recursive: true, force: true });
  mkdirSync(E2E_DIR, { recursive: true });
  const stack = await startLocalStack({
    dataDir: E2E_DIR,
    webPort: 3100,
    workerPort: await freePort(),
    log: (m) => console.log(`[e2e stack] ${m}`),
  });
  writeFileSync(
    resolve(E2E_DIR, "stack.json"),
    JSON.stringify({ webUrl: stack.webUrl, admin: stack.admin, source: stack.source, env: stack.env }, null, 2),
  );
  return async () => {
    await stack.stop();
  };
}
