import { handleTrpcRequest } from "@tide/api";

export const dynamic = "force-dynamic";

export const GET = (req: Request) => handleTrpcRequest(req);
export const POST = (req: Request) => handleTrpcRequest(req);
