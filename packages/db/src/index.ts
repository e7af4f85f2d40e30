export { createPrismaClient, parseDatabaseUrl, PrismaClient, type Prisma } from "./client";
export { migrate, splitStatements } from "./migrator";
export { SecretBox } from "./secret-box";
export { hashPassword, verifyPassword, createSession, findSessionUser, deleteSession, ensureAdmin, allocateServerId } from "./auth";
