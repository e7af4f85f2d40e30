"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { StateBadge } from "@/components/StateBadge";
import { formatNumber } from "@/lib/format";

export default function JobsPage() {
  const trpc = useTRPC();
  const jobs = useQuery(trpc.jobs.list.queryOptions(undefined, { refetchInterval: 3_000 }));

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Jobs</h1>
          <p className="muted">Sync jobs copy MySQL tables into the warehouse and keep them up to date.</p>
        </div>
        <Link href="/jobs/new" className="btn btn-primary" data-testid="new-job">
          + New job
        </Link>
      </div>

      {jobs.isError && <div className="alert alert-error">{jobs.error.message}</div>}
      {jobs.isPending && <div className="muted">Loading jobs…</div>}
      {jobs.data && jobs.data.length === 0 && (
        <div className="empty" data-testid="jobs-empty">
          <div className="empty-title">No jobs yet</div>
          <p>Create a job to start syncing tables from a MySQL or MariaDB server.</p>
          <Link href="/jobs/new" className="btn btn-primary">
            Create your first job
          </Link>
        </div>
      )}
      {jobs.data && jobs.data.length > 0 && (
        <div className="card no-pad">
          <table className="table" data-testid="jobs-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>Source</th>
                <th className="num">Tables</th>
                <th className="num">Rows copied</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.map((job) => (
                <tr key={job.id} data-testid={`job-row-${job.name}`}>
                  <td>
                    <Link href={`/jobs/${job.id}`} className="strong-link">
                      {job.name}
                    </Link>
                  </td>
                  <td>
                    <StateBadge state={job.actualState} />
                    {job.desiredState !== "running" && job.desiredState !== job.actualState && (
                      <span className="muted small"> → {job.desiredState}</span>
                    )}
                  </td>
                  <td className="mono small">{job.sourceHost}</td>
                  <td className="num">{job.tableCount}</td>
                  <td className="num">{formatNumber(job.rowsCopied)}</td>
                  <td className="error-cell" title={job.lastError ?? undefined}>
                    {job.lastError ?? <span className="muted">–</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
