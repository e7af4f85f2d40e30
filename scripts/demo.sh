#!/usr/bin/env bash
# `npm run demo`: installs what is missing, builds the console if needed, then
# runs Tide on its embedded defaults with a live demo (see scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
bash scripts/ensure-deps.sh
if [[ ! -f apps/web/.next/BUILD_ID || -n "$(find apps/web packages -newer apps/web/.next/BUILD_ID -name '*.ts*' -not -path '*/node_modules/*' -not -path '*/.next/*' -print -quit)" ]]; then
  echo "tide: building the console (about a minute)"
  npm run build --silent
fi
exec node --import tsx scripts/demo.ts
