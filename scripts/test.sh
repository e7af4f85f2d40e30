#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs every test: unit and
# integration (node's test runner, against private mariadbd processes and real
# DuckDB files) and end-to-end (Playwright in Debian's chromium).
set -uo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-deps.sh --browser || exit 1

mkdir -p .test-data
# A run that dies before writing its report must not be counted from the last run's.
rm -f .test-data/unit.tap .test-data/e2e.json
started=$(date +%s)
# The console is built first: the demo test (scripts/test/demo.test.ts) and the
# browser tests run it. A build that fails counts as a failed test.
echo "tide: building the console"
build_fail=0
if ! npm run build --silent > .test-data/web-build.log 2>&1; then
  tail -40 .test-data/web-build.log
  echo "tide: the console does not build (full log: .test-data/web-build.log)"
  build_fail=1
fi

shopt -s nullglob
unit_files=(packages/*/test/*.test.ts apps/*/test/*.test.ts scripts/test/*.test.ts)
echo "tide: ${#unit_files[@]} unit and integration test files"
node --import tsx --test --test-concurrency=2 --test-timeout=600000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.test-data/unit.tap \
  "${unit_files[@]}"
unit_status=$?
unit_pass=$(grep -E '^# pass ' .test-data/unit.tap | awk '{print $3}' | tail -1)
unit_fail=$(grep -E '^# fail ' .test-data/unit.tap | awk '{print $3}' | tail -1)

e2e_pass=0
e2e_fail=0
e2e_status=0
if [[ -f playwright.config.ts ]]; then
  PLAYWRIGHT_JSON_OUTPUT_NAME=.test-data/e2e.json npx playwright test --reporter=list,json
  e2e_status=$?
  if [[ -f .test-data/e2e.json ]]; then
    read -r e2e_pass e2e_fail < <(node -e '
      const r = JSON.parse(require("fs").readFileSync(".test-data/e2e.json", "utf8"));
      console.log(`${r.stats.expected + r.stats.flaky} ${r.stats.unexpected}`);')
  elif ((e2e_status != 0)); then
    e2e_fail=1
  fi
fi

passed=$(( ${unit_pass:-0} + e2e_pass ))
failed=$(( ${unit_fail:-0} + e2e_fail + build_fail ))
echo "tide: tests took $(( $(date +%s) - started )) s (console build $( ((build_fail)) && echo failed || echo ok), unit+integration exit ${unit_status}, e2e exit ${e2e_status})"
echo "${passed} passed, ${failed} failed"
(( build_fail == 0 && unit_status == 0 && e2e_status == 0 && failed == 0 ))
