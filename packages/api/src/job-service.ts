// Creating and updating sync jobs: one path for the wizard (a spec object) and
// the CLI (a YAML file). A job is saved only once its source passes every
// prerequisite check and its tables resolve, so a job that starts can run.
import { checkSource, connectionProblem, discoverTables } from "@tide/cdc-mysql";
import {
  ConflictError,
  InvalidInputError,
  PipelineSpec,
  pipelineToYaml,
  resolveTables,
  SourceUnreachableError,
  TideError,
  type ResolvedTable,
} from "@tide/contracts";
import { allocateServerId, type PrismaClient, type SecretBox } from "@tide/db";

export interface JobServiceDeps {
  prisma: PrismaClient;
  secretBox: SecretBox;
}

/** Checks the source and resolves the tables; throws with field-level messages. */
async function validateAgainstSource(spec: PipelineSpec, password: string): Promise<ResolvedTable[]> {
  const config = { host: spec.source.hostname, port: spec.source.port, user: spec.source.username, password };
  const report = await checkSource(config);
  const problem = connectionProblem(report);
  if (problem) throw new SourceUnreachableError(Object.values(problem)[0] ?? "Cannot connect to the source", problem);
  if (!report.ok) {
    const failing = report.checks.filter((c) => !c.ok);
    const message = failing.map((c) => `${c.label}: ${c.detail}${c.fix ? `. ${c.fix}` : ""}`).join(" ");
    throw new TideError("SOURCE_MISCONFIGURED", `The source is not ready for change data capture. ${message}`, {
      "source.hostname": message,
    });
  }
  const { tables, problems } = resolveTables(spec, await discoverTables(config));
  if (Object.keys(problems).length > 0) {
    throw new InvalidInputError(Object.values(problems)[0] ?? "The table selection is invalid", problems);
  }
  return tables;
}

function parseSpec(input: unknown): PipelineSpec {
  const parsed = PipelineSpec.safeParse(input);
  if (!parsed.success) throw InvalidInputError.fromZod(parsed.error, "The job");
  return parsed.data;
}

/** The stored form: everything but the password, which lives encrypted in the source connection. */
function storedSpec(spec: PipelineSpec): PipelineSpec {
  const { password: _password, ...source } = spec.source;
  return { ...spec, source };
}

export async function createJob(deps: JobServiceDeps, input: unknown): Promise<{ id: number; name: string }> {
  const spec = parseSpec(input);
  const password = spec.source.password;
  if (password === undefined) throw new InvalidInputError("Enter the source password", { "source.password": "Enter the source password" });
  const name = spec.pipeline.name;
  if (await deps.prisma.syncJob.findUnique({ where: { name } })) {
    throw new ConflictError(`A job named "${name}" exists already`, { "pipeline.name": `A job named "${name}" exists already` });
  }
  await validateAgainstSource(spec, password);
  return deps.prisma.$transaction(async (tx) => {
    const source = await tx.sourceConnection.create({
      data: {
        name: `${name}-source`,
        kind: "mysql",
        host: spec.source.hostname,
        port: spec.source.port,
        username: spec.source.username,
        passwordEnc: deps.secretBox.encrypt(password),
      },
    });
    const job = await tx.syncJob.create({
      data: {
        name,
        sourceId: source.id,
        spec: storedSpec(spec) as object,
        desiredState: "running",
        actualState: "pending",
        serverId: spec.source["server-id"] ?? (await allocateServerId(tx as unknown as PrismaClient)),
      },
    });
    return { id: job.id, name: job.name };
  });
}

/** `pipeline apply`: creates the job named in the spec, or updates it; either way it ends up running. */
export async function applyJob(
  deps: JobServiceDeps,
  input: unknown,
): Promise<{ id: number; name: string; created: boolean }> {
  const spec = parseSpec(input);
  const existing = await deps.prisma.syncJob.findUnique({ where: { name: spec.pipeline.name }, include: { source: true } });
  if (!existing) return { ...(await createJob(deps, spec)), created: true };
  const password = spec.source.password ?? deps.secretBox.decrypt(existing.source.passwordEnc);
  await validateAgainstSource(spec, password);
  await deps.prisma.$transaction([
    deps.prisma.sourceConnection.update({
      where: { id: existing.sourceId },
      data: {
        host: spec.source.hostname,
        port: spec.source.port,
        username: spec.source.username,
        passwordEnc: deps.secretBox.encrypt(password),
      },
    }),
    deps.prisma.syncJob.update({
      where: { id: existing.id },
      data: { spec: storedSpec(spec) as object, desiredState: "running", actualState: "pending", lastError: null, lastErrorAt: null },
    }),
  ]);
  return { id: existing.id, name: existing.name, created: false };
}

export function exportYaml(storedSpecJson: unknown): string {
  return pipelineToYaml(PipelineSpec.parse(storedSpecJson));
}

/**
 * The remedy for a job that cannot resume (its binlog was purged): forget its
 * checkpoints so it snapshots every table again, then streams from there.
 */
export async function requestResnapshot(prisma: PrismaClient, jobId: number): Promise<void> {
  await prisma.$transaction([
    prisma.checkpoint.deleteMany({ where: { jobId } }),
    prisma.syncJobTable.updateMany({ where: { jobId }, data: { phase: "pending", rowsCopied: 0n } }),
    prisma.syncJob.update({ where: { id: jobId }, data: { desiredState: "running", actualState: "pending", lastError: null, lastErrorAt: null } }),
  ]);
}
