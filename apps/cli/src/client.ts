// The CLI is a client of the same authenticated API the console uses.
// Credentials: TIDE_TOKEN, or TIDE_USER + TIDE_PASSWORD, or (on the machine
// running Tide) the initial admin password file in the data directory.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import type { AppRouter } from "@tide/api";

export type TideClient = ReturnType<typeof createTRPCClient<AppRouter>>;

export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<TideClient> {
  const baseUrl = (env.TIDE_URL ?? "http://localhost:3000").replace(/\/$/, "");
  const token = env.TIDE_TOKEN ?? (await login(baseUrl, credentials(env)));
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

function credentials(env: NodeJS.ProcessEnv): { username: string; password: string } {
  if (env.TIDE_USER && env.TIDE_PASSWORD) return { username: env.TIDE_USER, password: env.TIDE_PASSWORD };
  const file = join(resolve(env.TIDE_DATA_DIR ?? ".tide-data"), "initial-admin-password");
  if (existsSync(file)) {
    const [username, ...rest] = readFileSync(file, "utf8").trim().split(":");
    if (username && rest.length > 0) return { username, password: rest.join(":") };
  }
  throw new CliError("No credentials: set TIDE_USER and TIDE_PASSWORD (or TIDE_TOKEN).");
}

async function login(baseUrl: string, creds: { username: string; password: string }): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/api/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(creds),
    });
  } catch {
    throw new CliError(`Cannot reach Tide at ${baseUrl} (set TIDE_URL).`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new CliError(`Sign-in failed: ${body.error?.message ?? res.statusText}`);
  }
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("tide_session="));
  const token = cookie?.slice("tide_session=".length).split(";")[0];
  if (!token) throw new CliError("Sign-in answered without a session.");
  return decodeURIComponent(token);
}

/** An error whose message is meant for the user as it is. */
export class CliError extends Error {}

export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof TRPCClientError) {
    const fieldErrors = (error.data as { fieldErrors?: Record<string, string> } | undefined)?.fieldErrors;
    const details = fieldErrors ? Object.entries(fieldErrors).map(([k, v]) => `\n  ${k}: ${v}`).join("") : "";
    return `${error.message}${details}`;
  }
  return error instanceof Error ? error.message : String(error);
}
