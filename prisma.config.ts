// Prisma 7 reads no .env and its env() throws when a variable is unset; generate
// needs no database, so a placeholder URL keeps offline `prisma generate` working.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "mysql://placeholder@127.0.0.1:3306/placeholder" },
});
