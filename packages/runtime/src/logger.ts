// One-line JSON logs. Fields named like secrets are redacted before they are
// written, at any depth (nested objects, arrays, error causes), and credentials
// inside URLs are masked, so a password passed by mistake never reaches a log line.
// "key" only as a whole word or a suffix (apiKey, secret_key): keyColumns and keyRange are not secrets.
const SECRET_FIELD = /pass(word)?|secret|token|(?:^|[a-z_-])key$/i;
// user:password@ in a URL such as a DATABASE_URL quoted in an error message.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi;
const MAX_DEPTH = 10;

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export function createLogger(base: LogFields = {}, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const emit = (level: string, message: string, fields: LogFields = {}) => {
    const safe = redactValue({ ...base, ...fields }, new WeakSet(), 0) as LogFields;
    write(JSON.stringify({ t: new Date().toISOString(), level, msg: maskUrlCredentials(message), ...safe }));
  };
  return {
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

/** Text with the credentials of any URL in it masked (user:password@ → user:[redacted]@). */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1[redacted]@");
}

/** A copy of `value` safe to serialise: secret-named fields replaced, errors reduced to message and cause. */
function redactValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === "string") return maskUrlCredentials(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) {
      const message = maskUrlCredentials(value.message);
      // Without a cause an error stays a plain message, as log readers expect.
      if (value.cause === undefined) return message;
      return { message, cause: redactValue(value.cause, seen, depth + 1) };
    }
    if (Array.isArray(value)) return value.map((v) => redactValue(v, seen, depth + 1));
    // Dates and the like serialise themselves.
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
    const out: LogFields = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_FIELD.test(k) ? "[redacted]" : redactValue(v, seen, depth + 1);
    }
    return out;
  } finally {
    // Only the path from the root counts as a cycle; the same object twice side by side is fine.
    seen.delete(value);
  }
}
