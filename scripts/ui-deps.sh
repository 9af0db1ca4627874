#!/usr/bin/env bash
# Installs the web UI's packages from ui/package-lock.json (npm ci), only when they are missing or
# the lockfile changed since the last install.
set -euo pipefail
ui=$(cd "$(dirname "$0")/../ui" && pwd)
stamp="$ui/node_modules/.keyward-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$ui/package-lock.json" "$stamp"; then
  (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ui/package-lock.json" "$stamp"
fi
