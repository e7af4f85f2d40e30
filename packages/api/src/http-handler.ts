// The fetch handler the web app mounts at /api/trpc.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createContext } from "./context";
import { appRouter } from "./router";

export function handleTrpcRequest(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => createContext(req, resHeaders),
    onError({ error, path }) {
      // Domain errors are the user's to fix; only unexpected ones are logged (without inputs, which may hold passwords).
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tide api: ${path ?? "?"} failed: ${error.cause?.message ?? error.message}`);
    },
  });
}
