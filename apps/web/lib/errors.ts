// What the UI needs from a tRPC error: a plain sentence, field-level messages, codes.
export interface ErrorInfo {
  message: string;
  fieldErrors: Record<string, string>;
  code?: string;
  tideCode?: string;
}

interface ErrorData {
  code?: string;
  tideCode?: string;
  fieldErrors?: Record<string, string>;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (!error) return { message: "", fieldErrors: {} };
  const data = (error as { data?: ErrorData | null }).data ?? undefined;
  const raw = error instanceof Error ? error.message : String(error);
  // A network failure or a non-JSON answer: say so in words.
  const message =
    /Failed to fetch|NetworkError|Unexpected token|JSON/.test(raw) && !data
      ? "The server could not be reached. Check that Tide is running and try again."
      : raw;
  return { message, fieldErrors: data?.fieldErrors ?? {}, code: data?.code, tideCode: data?.tideCode };
}

export function isUnauthorized(error: unknown): boolean {
  return errorInfo(error).code === "UNAUTHORIZED";
}
