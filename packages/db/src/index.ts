export { createPrismaClient, parseDatabaseUrl, PrismaClient, Prisma, type DatabaseAddress } from "./client";
export type { User, Session, SourceConnection, SyncJob, SyncJobTable, Checkpoint, MetricSample, WorkerStatus, Verification, SchemaChangeRecord } from "./client";
export { migrate, splitStatements } from "./migrator";
export { SecretBox } from "./secret-box";
export { hashPassword, verifyPassword, createSession, findSessionUser, deleteSession, ensureAdmin, allocateServerId } from "./auth";
