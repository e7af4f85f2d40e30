"use client";
import { useMemo, useState, type ReactNode } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { stringify as stringifyYaml } from "yaml";
import { exactTablePattern, PipelineSpec, pipelineToYaml, SinkTableName, type PipelineSpecInput } from "@tide/contracts";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { errorInfo } from "@/lib/errors";
import { formatNumber } from "@/lib/format";

type Step = 1 | 2 | 3 | 4;
type TestResult = RouterOutputs["sources"]["test"];
type Discovered = RouterOutputs["sources"]["discover"][number];
interface KeyChoice {
  model: "duplicate" | "unique";
  keys: string[];
}

const STEPS: { n: Step; label: string }[] = [
  { n: 1, label: "Connection" },
  { n: 2, label: "Tables" },
  { n: 3, label: "Targets" },
  { n: 4, label: "Review" },
];

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const qualified = (t: { database: string; table: string }) => `${t.database}.${t.table}`;

/** Which step a server field error belongs to. */
function stepForField(key: string): Step {
  if (key.startsWith("source.tables") || key.startsWith("tables.") || key.startsWith("transform")) return 2;
  if (key.startsWith("route") || key.startsWith("targets.")) return 3;
  if (key.startsWith("source") || key.startsWith("pipeline")) return 1;
  return 4;
}

/** Input errors of sources.test/discover are keyed by the input's own fields; the UI keys them as in the spec. */
function asSourceKeys(fieldErrors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fieldErrors)) out[k.startsWith("source.") ? k : `source.${k}`] = v;
  return out;
}

function FieldError({ name, errors }: { name: string; errors: Record<string, string> }) {
  const message = errors[name];
  if (!message) return null;
  return (
    <div className="field-error" data-testid={`field-error-${name}`}>
      {message}
    </div>
  );
}

export default function NewJobPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();

  const [step, setStep] = useState<Step>(1);
  const [name, setName] = useState("");
  const [hostname, setHostname] = useState("");
  const [port, setPort] = useState("3306");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<string | null>(null);

  const [testResult, setTestResult] = useState<TestResult | null>(null);
  const [testedKey, setTestedKey] = useState<string | null>(null);

  const [discovered, setDiscovered] = useState<Discovered[] | null>(null);
  const [discoveredKey, setDiscoveredKey] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [choices, setChoices] = useState<Record<string, KeyChoice>>({});
  const [targets, setTargets] = useState<Record<string, string>>({});
  const [search, setSearch] = useState("");

  const portNumber = Number(port);
  const connection = { hostname: hostname.trim(), port: Number.isInteger(portNumber) && port.trim() !== "" ? portNumber : port, username, password };
  const connectionKey = JSON.stringify(connection);
  const testPassed = Boolean(testResult?.ok) && testedKey === connectionKey;

  const testMutation = useMutation(trpc.sources.test.mutationOptions());
  const discoverMutation = useMutation(trpc.sources.discover.mutationOptions());
  const createMutation = useMutation(trpc.jobs.create.mutationOptions());

  const clearErrors = (prefix: (k: string) => boolean) =>
    setFieldErrors((prev) => Object.fromEntries(Object.entries(prev).filter(([k]) => !prefix(k))));

  const showServerError = (error: unknown, fallbackStep: Step, mapKeys = (e: Record<string, string>) => e) => {
    const info = errorInfo(error);
    const errors = mapKeys(info.fieldErrors);
    setFieldErrors(errors);
    const steps = Object.keys(errors).map(stepForField);
    const target = steps.length > 0 ? (Math.min(...steps) as Step) : fallbackStep;
    // The field messages say it where it belongs; the banner is for errors without a field.
    setBanner(Object.keys(errors).length > 0 && target !== 4 ? null : info.message);
    setStep(target);
  };

  // ---- step 1 -------------------------------------------------------------
  const runTest = () => {
    setBanner(null);
    clearErrors((k) => k.startsWith("source."));
    const key = connectionKey;
    testMutation.mutate(connection, {
      onSuccess: (result) => {
        setTestResult(result);
        setTestedKey(key);
        if (result.fieldErrors) setFieldErrors((prev) => ({ ...prev, ...result.fieldErrors }));
      },
      onError: (error) => {
        setTestResult(null);
        const info = errorInfo(error);
        setFieldErrors((prev) => ({ ...prev, ...asSourceKeys(info.fieldErrors) }));
        if (Object.keys(info.fieldErrors).length === 0) setBanner(info.message);
      },
    });
  };

  const validateStep1 = (): boolean => {
    const errors: Record<string, string> = {};
    if (!name.trim()) errors["pipeline.name"] = "A job needs a name";
    else if (!JOB_NAME.test(name.trim())) errors["pipeline.name"] = "Letters, digits, '_', '-' and '.' only";
    clearErrors((k) => k === "pipeline.name");
    if (Object.keys(errors).length > 0) {
      setFieldErrors((prev) => ({ ...prev, ...errors }));
      return false;
    }
    return true;
  };

  const discover = () => {
    const key = connectionKey;
    discoverMutation.mutate(connection, {
      onSuccess: (tables) => {
        setDiscovered(tables);
        setDiscoveredKey(key);
        // Keep only selections that still exist.
        const names = new Set(tables.map(qualified));
        setSelected((prev) => new Set([...prev].filter((k) => names.has(k))));
      },
      onError: (error) => showServerError(error, 2, asSourceKeys),
    });
  };

  const goToTables = () => {
    if (!validateStep1()) return;
    setBanner(null);
    setStep(2);
    if (discoveredKey !== connectionKey) discover();
  };

  // ---- step 2 -------------------------------------------------------------
  const groups = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const map = new Map<string, Discovered[]>();
    for (const t of discovered ?? []) {
      if (needle && !qualified(t).toLowerCase().includes(needle)) continue;
      const list = map.get(t.database) ?? [];
      list.push(t);
      map.set(t.database, list);
    }
    return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [discovered, search]);

  const selectedTables = useMemo(
    () => (discovered ?? []).filter((t) => selected.has(qualified(t))),
    [discovered, selected],
  );

  const toggle = (key: string, on: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });
    clearErrors((k) => k === `tables.${key}` || k === "source.tables");
  };

  const toggleDatabase = (tables: Discovered[], on: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      for (const t of tables) {
        if (on) next.add(qualified(t));
        else next.delete(qualified(t));
      }
      return next;
    });
  };

  const choiceFor = (key: string): KeyChoice => choices[key] ?? { model: "duplicate", keys: [] };
  const setChoice = (key: string, choice: KeyChoice) => {
    setChoices((prev) => ({ ...prev, [key]: choice }));
    clearErrors((k) => k === `tables.${key}`);
  };

  // ---- step 3 -------------------------------------------------------------
  const targetFor = (t: Discovered) => targets[qualified(t)] ?? `ods.${t.table}`;
  const targetProblems = useMemo(() => {
    const problems: Record<string, string> = {};
    const owners = new Map<string, string>();
    for (const t of selectedTables) {
      const key = qualified(t);
      const target = (targets[key] ?? `ods.${t.table}`).trim();
      if (!SinkTableName.safeParse(target).success) {
        problems[`targets.${key}`] = "Must look like layer.table, e.g. ods.orders";
        continue;
      }
      const owner = owners.get(target.toLowerCase());
      if (owner) problems[`targets.${key}`] = `${owner} is written to ${target} already`;
      else owners.set(target.toLowerCase(), key);
    }
    return problems;
  }, [selectedTables, targets]);

  // ---- step 4 -------------------------------------------------------------
  const spec: PipelineSpecInput = useMemo(() => {
    const pattern = (t: Discovered) => exactTablePattern(t.database, t.table);
    return {
      source: {
        type: "mysql",
        hostname: hostname.trim(),
        port: Number.isInteger(portNumber) ? portNumber : 3306,
        username,
        password,
        tables: selectedTables.map(pattern).join(","),
      },
      sink: { type: "embedded" },
      route: selectedTables.map((t) => ({ "source-table": pattern(t), "sink-table": targetFor(t).trim() })),
      transform: selectedTables
        .filter((t) => t.primaryKey.length === 0)
        .map((t) => {
          const choice = choiceFor(qualified(t));
          return choice.model === "duplicate"
            ? { "source-table": pattern(t), "table-model": "duplicate" as const }
            : {
                "source-table": pattern(t),
                "table-model": "unique" as const,
                ...(choice.keys.length > 0 ? { "primary-keys": choice.keys.join(",") } : {}),
              };
        }),
      pipeline: { name: name.trim() },
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hostname, portNumber, username, password, selectedTables, targets, choices, name]);

  const yaml = useMemo(() => {
    const parsed = PipelineSpec.safeParse(spec);
    if (parsed.success) return pipelineToYaml(parsed.data);
    const { password: _omitted, ...source } = spec.source;
    return stringifyYaml({ ...spec, source });
  }, [spec]);

  const routeIndexToTable = (errors: Record<string, string>) => {
    // zod paths like route.0.sink-table point at the n-th selected table's target.
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(errors)) {
      const m = /^route\.(\d+)/.exec(k);
      const t = m ? selectedTables[Number(m[1])] : undefined;
      out[t ? `targets.${qualified(t)}` : k] = v;
    }
    return out;
  };

  const create = () => {
    setBanner(null);
    setFieldErrors({});
    createMutation.mutate(
      { spec },
      {
        onSuccess: async (job) => {
          await queryClient.invalidateQueries({ queryKey: trpc.jobs.list.queryKey() });
          router.push(`/jobs/${job.id}`);
        },
        onError: (error) => showServerError(error, 4, routeIndexToTable),
      },
    );
  };

  // ---- render -------------------------------------------------------------
  const errorsOn = (s: Step) => Object.keys(fieldErrors).some((k) => stepForField(k) === s);

  let body: ReactNode = null;
  let footer: ReactNode = null;

  if (step === 1) {
    body = (
      <div className="form-grid">
        <label className="field span-2">
          <span>Job name</span>
          <input
            data-testid="wizard-name"
            value={name}
            placeholder="shop-orders"
            onChange={(e) => {
              setName(e.target.value);
              clearErrors((k) => k === "pipeline.name");
            }}
          />
          <FieldError name="pipeline.name" errors={fieldErrors} />
        </label>
        <label className="field">
          <span>Host</span>
          <input
            data-testid="wizard-host"
            value={hostname}
            placeholder="db.example.com"
            onChange={(e) => {
              setHostname(e.target.value);
              clearErrors((k) => k === "source.hostname");
            }}
          />
          <FieldError name="source.hostname" errors={fieldErrors} />
        </label>
        <label className="field">
          <span>Port</span>
          <input
            data-testid="wizard-port"
            value={port}
            inputMode="numeric"
            onChange={(e) => {
              setPort(e.target.value);
              clearErrors((k) => k === "source.port");
            }}
          />
          <FieldError name="source.port" errors={fieldErrors} />
        </label>
        <label className="field">
          <span>Username</span>
          <input
            data-testid="wizard-username"
            value={username}
            autoComplete="off"
            onChange={(e) => {
              setUsername(e.target.value);
              clearErrors((k) => k === "source.username");
            }}
          />
          <FieldError name="source.username" errors={fieldErrors} />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            data-testid="wizard-password"
            type="password"
            value={password}
            autoComplete="new-password"
            onChange={(e) => {
              setPassword(e.target.value);
              clearErrors((k) => k === "source.password");
            }}
          />
          <FieldError name="source.password" errors={fieldErrors} />
        </label>
        <FieldError name="source" errors={fieldErrors} />

        <div className="span-2 test-row">
          <button
            className="btn"
            data-testid="wizard-test"
            onClick={runTest}
            disabled={testMutation.isPending || !hostname.trim() || !username}
          >
            {testMutation.isPending ? "Testing…" : "Test connection"}
          </button>
          {testResult && testedKey === connectionKey && (
            <span className={testResult.ok ? "text-good" : "text-bad"} data-testid="wizard-test-summary">
              {testResult.ok
                ? `Ready for change data capture${testResult.serverVersion ? ` (${testResult.serverVersion})` : ""}`
                : "Some checks failed: fix them and test again"}
            </span>
          )}
          {testResult && testedKey !== connectionKey && (
            <span className="muted">The connection changed since the test: test again.</span>
          )}
        </div>

        {testResult && (
          <div className="span-2 checks" data-testid="wizard-checks">
            {testResult.checks.map((check) => (
              <div key={check.id} className={`check ${check.ok ? "ok" : "bad"}`} data-testid={`check-${check.id}`} data-ok={String(check.ok)}>
                <span className="check-mark">{check.ok ? "✓" : "✗"}</span>
                <div className="check-body">
                  <div className="check-label">{check.label}</div>
                  <div className="check-detail">{check.detail}</div>
                  {!check.ok && check.fix && <div className="check-fix">Fix: {check.fix}</div>}
                </div>
              </div>
            ))}
          </div>
        )}
      </div>
    );
    footer = (
      <>
        <span className="muted small">{testPassed ? "" : "Test the connection to continue."}</span>
        <button className="btn btn-primary" data-testid="wizard-next" disabled={!testPassed} onClick={goToTables}>
          Next: tables →
        </button>
      </>
    );
  } else if (step === 2) {
    body = (
      <div>
        <div className="toolbar">
          <input
            className="search"
            data-testid="table-search"
            placeholder="Filter tables by name…"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <button className="btn btn-sm" onClick={discover} disabled={discoverMutation.isPending}>
            {discoverMutation.isPending ? "Discovering…" : "Refresh"}
          </button>
          <span className="muted small">
            {selected.size} selected{discovered ? ` of ${discovered.length}` : ""}
          </span>
        </div>
        <FieldError name="source.tables" errors={fieldErrors} />
        {discoverMutation.isPending && !discovered && <div className="muted pad">Discovering tables…</div>}
        {discovered && discovered.length === 0 && (
          <div className="empty">The user can see no tables on this server. Grant it SELECT on the databases to sync.</div>
        )}
        {discovered && discovered.length > 0 && groups.length === 0 && <div className="muted pad">No table matches “{search}”.</div>}
        {groups.map(([database, tables]) => {
          const allOn = tables.every((t) => selected.has(qualified(t)));
          return (
            <div className="db-group" key={database} data-testid={`db-group-${database}`}>
              <div className="db-head">
                <label>
                  <input type="checkbox" checked={allOn} onChange={(e) => toggleDatabase(tables, e.target.checked)} />
                  <strong>{database}</strong>
                </label>
                <span className="muted small">{tables.length} tables</span>
              </div>
              {tables.map((t) => {
                const key = qualified(t);
                const on = selected.has(key);
                const noKey = t.primaryKey.length === 0;
                const choice = choiceFor(key);
                return (
                  <div className={`table-item ${on ? "on" : ""}`} key={key}>
                    <label className="table-line">
                      <input
                        type="checkbox"
                        data-testid={`table-checkbox-${key}`}
                        checked={on}
                        onChange={(e) => toggle(key, e.target.checked)}
                      />
                      <span className="mono">{t.table}</span>
                      <span className="muted small">
                        ~{formatNumber(t.rowsEstimate)} rows · {t.columns.length} columns
                        {t.engine ? ` · ${t.engine}` : ""}
                      </span>
                      {noKey ? (
                        <span className="badge tone-warn">no primary key</span>
                      ) : (
                        <span className="muted small">key: {t.primaryKey.join(", ")}</span>
                      )}
                    </label>
                    {on && noKey && (
                      <div className="nokey">
                        <div className="nokey-warning">
                          ⚠ {key} has no primary key. Sync it append-only (every change is a new row), or pick columns that
                          identify a row.
                        </div>
                        <div className="nokey-controls">
                          <select
                            data-testid={`table-nokey-${key}`}
                            value={choice.model}
                            onChange={(e) =>
                              setChoice(key, { ...choice, model: e.target.value === "unique" ? "unique" : "duplicate" })
                            }
                          >
                            <option value="duplicate">Append-only</option>
                            <option value="unique">Use key columns</option>
                          </select>
                          {choice.model === "unique" && (
                            <select
                              multiple
                              data-testid={`table-keys-${key}`}
                              value={choice.keys}
                              size={Math.min(6, Math.max(2, t.columns.length))}
                              onChange={(e) =>
                                setChoice(key, { ...choice, keys: Array.from(e.target.selectedOptions, (o) => o.value) })
                              }
                            >
                              {t.columns.map((c) => (
                                <option key={c.name} value={c.name}>
                                  {c.name} ({c.mysqlType}
                                  {c.nullable ? ", nullable" : ""})
                                </option>
                              ))}
                            </select>
                          )}
                          {choice.model === "unique" && choice.keys.length === 0 && (
                            <span className="muted small">Select one or more key columns (Ctrl/Cmd-click).</span>
                          )}
                        </div>
                      </div>
                    )}
                    <FieldError name={`tables.${key}`} errors={fieldErrors} />
                  </div>
                );
              })}
            </div>
          );
        })}
        {Object.entries(fieldErrors)
          .filter(([k]) => k.startsWith("tables.") && !selected.has(k.slice("tables.".length)))
          .map(([k]) => (
            <FieldError key={k} name={k} errors={fieldErrors} />
          ))}
      </div>
    );
    footer = (
      <>
        <button className="btn" onClick={() => setStep(1)}>
          ← Back
        </button>
        <span className="spacer" />
        {selected.size === 0 && (
          <span className="muted small" data-testid="tables-none">
            Select at least one table to continue.
          </span>
        )}
        <button
          className="btn btn-primary"
          data-testid="wizard-next"
          disabled={selected.size === 0}
          onClick={() => {
            setBanner(null);
            setStep(3);
          }}
        >
          Next: targets →
        </button>
      </>
    );
  } else if (step === 3) {
    const errors = { ...targetProblems, ...fieldErrors };
    body = (
      <div>
        <p className="muted">
          Each table lands in the warehouse as <span className="mono">layer.table</span>. The default layer is{" "}
          <span className="mono">ods</span>.
        </p>
        <table className="table">
          <thead>
            <tr>
              <th>Source table</th>
              <th>Model</th>
              <th>Warehouse table</th>
            </tr>
          </thead>
          <tbody>
            {selectedTables.map((t) => {
              const key = qualified(t);
              const model = t.primaryKey.length > 0 ? `unique (${t.primaryKey.join(", ")})` : choiceFor(key).model === "duplicate" ? "append-only" : `unique (${choiceFor(key).keys.join(", ") || "no key"})`;
              return (
                <tr key={key}>
                  <td className="mono">{key}</td>
                  <td className="small">{model}</td>
                  <td>
                    <input
                      data-testid={`target-${key}`}
                      className={errors[`targets.${key}`] ? "invalid" : undefined}
                      value={targetFor(t)}
                      onChange={(e) => {
                        const value = e.target.value;
                        setTargets((prev) => ({ ...prev, [key]: value }));
                        clearErrors((k) => k === `targets.${key}`);
                      }}
                    />
                    <FieldError name={`targets.${key}`} errors={errors} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
    footer = (
      <>
        <button className="btn" onClick={() => setStep(2)}>
          ← Back
        </button>
        <span className="spacer" />
        {Object.keys(targetProblems).length > 0 && <span className="muted small">Fix the table names to continue.</span>}
        <button
          className="btn btn-primary"
          data-testid="wizard-next"
          disabled={Object.keys(targetProblems).length > 0}
          onClick={() => {
            setBanner(null);
            setStep(4);
          }}
        >
          Next: review →
        </button>
      </>
    );
  } else {
    body = (
      <div>
        <p className="muted">
          The job as a pipeline file (the password is not included). Tide copies the existing rows first, then follows the
          binlog.
        </p>
        <pre className="yaml" data-testid="wizard-yaml">
          {yaml}
        </pre>
        {Object.entries(fieldErrors)
          .filter(([k]) => stepForField(k) === 4)
          .map(([k]) => (
            <FieldError key={k} name={k} errors={fieldErrors} />
          ))}
      </div>
    );
    footer = (
      <>
        <button className="btn" onClick={() => setStep(3)}>
          ← Back
        </button>
        <span className="spacer" />
        <button className="btn btn-primary" data-testid="wizard-create" disabled={createMutation.isPending} onClick={create}>
          {createMutation.isPending ? "Creating…" : "Create and start"}
        </button>
      </>
    );
  }

  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <h1>New job</h1>
          <p className="muted">Connect a MySQL or MariaDB server, pick tables, and Tide keeps them in sync.</p>
        </div>
      </div>

      <ol className="steps" data-testid="wizard-steps">
        {STEPS.map((s) => (
          <li
            key={s.n}
            className={[s.n === step ? "current" : "", s.n < step ? "done" : "", errorsOn(s.n) ? "has-error" : ""].join(" ")}
            data-testid={`wizard-step-${s.n}`}
            aria-current={s.n === step ? "step" : undefined}
          >
            <span className="step-n">{s.n < step ? "✓" : s.n}</span>
            {s.label}
          </li>
        ))}
      </ol>

      <div className="card">
        {banner && (
          <div className="alert alert-error" data-testid="wizard-error" role="alert">
            {banner}
          </div>
        )}
        {body}
        <div className="card-foot">{footer}</div>
      </div>
    </div>
  );
}
