const TONES: Record<string, string> = {
  streaming: "good",
  snapshotting: "info",
  pending: "muted",
  reconnecting: "warn",
  paused: "warn",
  stopped: "muted",
  failed: "bad",
  running: "good",
};

export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={`badge tone-${TONES[state] ?? "muted"}`} data-testid={testId}>
      {state}
    </span>
  );
}
