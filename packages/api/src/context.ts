// What every API call runs with: the process-wide services (created once, after
// the metadata DB is migrated and an admin exists) and the signed-in user.
import { loadServerConfig, type ServerConfig } from "@tide/config";
import { createPrismaClient, ensureAdmin, findSessionUser, migrate, SecretBox, type PrismaClient } from "@tide/db";
import { WorkerClient } from "./worker-client";

export interface ApiServices {
  config: ServerConfig;
  prisma: PrismaClient;
  secretBox: SecretBox;
  worker: WorkerClient;
}

export interface SessionUser {
  id: number;
  username: string;
  role: string;
}

export interface ApiContext {
  services: ApiServices;
  user: SessionUser | undefined;
  /** The raw session token of this request, if any (for sign-out). */
  sessionToken: string | undefined;
  /** Lets auth.login/logout set the session cookie on the response. */
  setCookie: (cookie: string) => void;
}

export const SESSION_COOKIE = "tide_session";

let servicesReady: Promise<ApiServices> | undefined;

export function getServices(): Promise<ApiServices> {
  servicesReady ??= (async () => {
    const config = loadServerConfig();
    await migrate(config.databaseUrl);
    const prisma = createPrismaClient(config.databaseUrl);
    const admin = await ensureAdmin(prisma, config.dataDir);
    if (admin.created) console.log(`tide: created user "${admin.username}"; its password is in ${config.dataDir}/initial-admin-password`);
    return { config, prisma, secretBox: new SecretBox(config.secretKey), worker: new WorkerClient(config.workerUrl, config.internalSecret) };
  })().catch((error: unknown) => {
    servicesReady = undefined; // let the next request try again (the metadata DB may be starting)
    throw error;
  });
  return servicesReady;
}

/** The session token from the cookie, or from `Authorization: Bearer` (the CLI). */
export function sessionTokenFrom(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim() || undefined;
  const cookies = headers.get("cookie") ?? "";
  for (const part of cookies.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === SESSION_COOKIE) return decodeURIComponent(value.join("=")) || undefined;
  }
  return undefined;
}

export async function createContext(req: Request, resHeaders: Headers): Promise<ApiContext> {
  const services = await getServices();
  const sessionToken = sessionTokenFrom(req.headers);
  const user = sessionToken ? await findSessionUser(services.prisma, sessionToken) : undefined;
  return { services, user, sessionToken, setCookie: (cookie) => resHeaders.append("set-cookie", cookie) };
}
