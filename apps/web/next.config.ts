import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  transpilePackages: ["@tide/api", "@tide/contracts", "@tide/db", "@tide/cdc-mysql", "@tide/config"],
  serverExternalPackages: ["@duckdb/node-api", "@prisma/adapter-mariadb", "@prisma/client", "mariadb", "mysql2", "@vlasky/zongji"],
  allowedDevOrigins: ["127.0.0.1"],
  typedRoutes: false,
  poweredByHeader: false,
};

export default nextConfig;
