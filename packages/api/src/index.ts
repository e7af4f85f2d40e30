export { appRouter, type AppRouter } from "./router";
export { handleTrpcRequest } from "./http-handler";
export { createContext, getServices, type ApiContext } from "./context";
