#!/usr/bin/env bash
# npm ci in DIR, skipped when node_modules already matches package-lock.json.
set -euo pipefail
dir=${1:-.}
cd "$dir"
stamp=node_modules/.keyward-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
