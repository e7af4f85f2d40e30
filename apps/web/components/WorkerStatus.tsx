"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";

export function WorkerStatus() {
  const trpc = useTRPC();
  const status = useQuery(trpc.system.status.queryOptions(undefined, { refetchInterval: 5_000 }));
  let tone = "muted";
  let text = "Checking worker…";
  let title: string | undefined;
  if (status.isError) {
    tone = "bad";
    text = "Worker status unknown";
    title = status.error.message;
  } else if (status.data) {
    const worker = status.data.worker;
    if (!worker || !worker.reachable) {
      tone = "bad";
      text = "Worker unreachable";
      title = worker?.lastExitReason ?? undefined;
    } else if (worker.restarts > 0) {
      tone = "warn";
      const times = `${worker.restarts} ${worker.restarts === 1 ? "time" : "times"}`;
      text = `Worker restarted ${times}: ${worker.lastExitReason ?? "unknown reason"}`;
      title = `pid ${worker.pid}`;
    } else {
      tone = "good";
      text = "Worker up";
      title = `pid ${worker.pid}`;
    }
  }
  return (
    <div className={`worker-status tone-${tone}`} data-testid="worker-status" title={title}>
      <span className="dot" />
      <span>{text}</span>
    </div>
  );
}
