"use client";
import { useEffect, useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { errorInfo } from "@/lib/errors";

export default function LoginPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const me = useQuery(trpc.auth.me.queryOptions());
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async (user) => {
        queryClient.setQueryData(trpc.auth.me.queryKey(), user);
        router.push("/jobs");
      },
    }),
  );

  useEffect(() => {
    if (me.data) router.replace("/jobs");
  }, [me.data, router]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ username, password });
  };

  const error = login.error ? errorInfo(login.error) : null;
  // Field-level messages (empty username) read best as the one sentence.
  const message = error
    ? error.code === "UNAUTHORIZED"
      ? "Wrong username or password"
      : (Object.values(error.fieldErrors)[0] ?? error.message)
    : null;

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} noValidate>
        <div className="login-brand">
          <span className="brand-mark">≋</span> Tide
        </div>
        <p className="muted">Sign in to the warehouse console.</p>
        <label className="field">
          <span>Username</span>
          <input
            data-testid="login-username"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            data-testid="login-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {message && (
          <div className="alert alert-error" role="alert" data-testid="login-error">
            {message}
          </div>
        )}
        <button className="btn btn-primary btn-block" type="submit" data-testid="login-submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
