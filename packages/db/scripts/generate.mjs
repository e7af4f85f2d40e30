// Runs `prisma generate` offline. Every Prisma CLI command first tries to download
// a native schema engine, which this project's machines cannot reach; generate does
// not need it, so we point PRISMA_SCHEMA_ENGINE_BINARY at a stub that exits 1.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const stubDir = join(tmpdir(), "tide-prisma-stub");
mkdirSync(stubDir, { recursive: true });
const stub = join(stubDir, "schema-engine");
writeFileSync(stub, "#!/bin/sh\nexit 1\n");
chmodSync(stub, 0o755);

execFileSync(process.execPath, [join(root, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", join(root, "prisma", "schema.prisma")], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
});
