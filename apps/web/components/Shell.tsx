"use client";
import { useEffect, type ReactNode } from "react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { WorkerStatus } from "./WorkerStatus";

const NAV = [
  { href: "/jobs", label: "Jobs", testId: "nav-jobs", icon: "⇄" },
  { href: "/tables", label: "Tables", testId: "nav-tables", icon: "▦" },
  { href: "/schema-changes", label: "Schema changes", testId: "nav-schema-changes", icon: "Δ" },
  { href: "/sql", label: "SQL", testId: "nav-sql", icon: "›_" },
] as const;

export function Shell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 30_000 }));
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: () => {
        queryClient.clear();
        router.replace("/login");
      },
    }),
  );

  useEffect(() => {
    if (me.isSuccess && me.data === null) router.replace("/login");
  }, [me.isSuccess, me.data, router]);

  if (me.isPending) {
    return <div className="boot">Loading…</div>;
  }
  if (me.isError) {
    return (
      <div className="boot">
        <div className="alert alert-error">The console cannot reach the server: {me.error.message}</div>
      </div>
    );
  }
  if (!me.data) return <div className="boot">Redirecting to sign-in…</div>;

  return (
    <div className="app">
      <aside className="sidebar">
        <Link href="/jobs" className="brand">
          <span className="brand-mark">≋</span> Tide
        </Link>
        <nav className="nav">
          {NAV.map((item) => {
            const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
            return (
              <Link
                key={item.href}
                href={item.href}
                data-testid={item.testId}
                className={active ? "nav-item active" : "nav-item"}
              >
                <span className="nav-icon">{item.icon}</span>
                {item.label}
              </Link>
            );
          })}
        </nav>
        <div className="sidebar-foot">
          <WorkerStatus />
        </div>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="topbar-title">Warehouse console</div>
          <div className="topbar-user">
            <span data-testid="current-user">
              {me.data.username} <span className="role">{me.data.role}</span>
            </span>
            <button className="btn btn-ghost btn-sm" data-testid="sign-out" onClick={() => logout.mutate()} disabled={logout.isPending}>
              Sign out
            </button>
          </div>
        </header>
        <main className="content">{children}</main>
      </div>
    </div>
  );
}
