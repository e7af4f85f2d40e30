#!/usr/bin/env bash
# Installs what Tide needs on a fresh Debian machine and skips what is there:
# MariaDB's server binaries (Tide runs its own private mariadbd, never the
# system service), Debian's chromium for the browser tests, and npm packages.
# Usage: scripts/ensure-deps.sh [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=false
[[ "${1:-}" == "--browser" ]] && want_browser=true

sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
[[ -x /usr/sbin/mariadbd ]] && command -v mariadb-install-db >/dev/null || apt_packages+=(mariadb-server mariadb-client)
if $want_browser && ! command -v chromium >/dev/null; then apt_packages+=(chromium fonts-dejavu-core); fi
if ((${#apt_packages[@]} > 0)); then
  echo "tide: installing Debian packages: ${apt_packages[*]}"
  sudo_if_needed apt-get update -qq
  # The mariadb-server package would start the system service; Tide does not need it.
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

# npm packages: install when missing or when package-lock.json or a patch of a package
# (patches/, applied by patch-package at postinstall) changed since.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json || -n "$(find patches -newer node_modules/.package-lock.json 2>/dev/null)" ]]; then
  echo "tide: installing npm packages"
  npm ci --no-audit --no-fund
fi
# The Prisma client is generated, not committed: make it when missing or older than
# the schema (an edited schema would otherwise meet a stale client at run time).
prisma_client=packages/db/src/generated/prisma/client.ts
if [[ ! -f $prisma_client || prisma/schema.prisma -nt $prisma_client ]]; then
  echo "tide: generating the Prisma client"
  npm run generate --silent
  # Marks the client as newer than the schema even if the generator kept unchanged files.
  touch "$prisma_client"
fi
