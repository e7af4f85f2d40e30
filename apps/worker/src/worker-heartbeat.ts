// Records this worker in worker_status: the console shows when it last beat, and
// when a new process replaces one that died, the restart and its reason.
import type { PrismaClient } from "@tide/db";

const BEAT_MS = 2_000;

export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly name: string,
    private readonly startedAtMs: number,
    /** From the supervisor: how the previous process ended, when it knows. */
    private readonly supervisorLastExit?: string,
  ) {}

  async start(): Promise<void> {
    const previous = await this.prisma.workerStatus.findUnique({ where: { id: this.name } });
    const now = new Date();
    // A clean stop sets pid to 0; any other pid left behind means that process died or exited to be restarted.
    const crashed = previous !== null && previous.pid !== 0;
    // A process that exited on purpose (see exitForRestart) left its own reason, naming its pid.
    const ownReason = crashed && previous.lastExitReason?.startsWith(selfReasonPrefix(previous.pid)) ? previous.lastExitReason : undefined;
    const reason = ownReason
      ? `${ownReason}${this.supervisorLastExit ? ` ${this.supervisorLastExit}` : ""}`
      : crashed
        ? `${this.supervisorLastExit ?? `The previous worker process (pid ${previous.pid}) died without shutting down.`} Its last heartbeat was ${previous.heartbeatAt.toISOString()}; jobs resumed from their checkpoints.`
        : undefined;
    await this.prisma.workerStatus.upsert({
      where: { id: this.name },
      create: { id: this.name, pid: process.pid, startedAt: new Date(this.startedAtMs), heartbeatAt: now },
      update: {
        pid: process.pid,
        startedAt: new Date(this.startedAtMs),
        heartbeatAt: now,
        restarts: { increment: crashed ? 1 : 0 },
        ...(reason ? { lastExitReason: reason } : {}),
      },
    });
    this.timer = setInterval(() => {
      void this.prisma.workerStatus
        .update({ where: { id: this.name }, data: { heartbeatAt: new Date() } })
        .catch(() => undefined);
    }, BEAT_MS);
  }

  async stop(reason: string): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.prisma.workerStatus.update({ where: { id: this.name }, data: { pid: 0, lastExitReason: reason } }).catch(() => undefined);
  }

  /**
   * Records that this process could not start (whether or not start() ran): the console shows
   * the reason at once, and the next process counts this one as a restart, showing the reason
   * again (its pid is kept, as exitForRestart keeps it).
   */
  async recordStartFailure(reason: string): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const previous = await this.prisma.workerStatus.findUnique({ where: { id: this.name } });
    // A predecessor that left its pid behind died; start() counts it, unless this process never got there.
    const predecessorDied = previous !== null && previous.pid !== 0 && previous.pid !== process.pid;
    const startedAt = new Date(this.startedAtMs);
    const lastExitReason = `${selfReasonPrefix(process.pid)} at start-up: ${reason}`;
    await this.prisma.workerStatus.upsert({
      where: { id: this.name },
      create: { id: this.name, pid: process.pid, startedAt, heartbeatAt: startedAt, lastExitReason },
      update: { pid: process.pid, startedAt, lastExitReason, restarts: { increment: predecessorDied ? 1 : 0 } },
    });
  }

  /**
   * Records why this process is about to exit so that its supervisor restarts it: the pid
   * stays (the next start counts a restart) and the next process shows this reason.
   */
  async exitForRestart(reason: string): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.prisma.workerStatus
      .update({ where: { id: this.name }, data: { lastExitReason: `${selfReasonPrefix(process.pid)} to be restarted: ${reason}` } })
      .catch(() => undefined);
  }
}

function selfReasonPrefix(pid: number): string {
  return `The worker process (pid ${pid}) exited`;
}
