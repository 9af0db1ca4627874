#!/usr/bin/env bash
# The web UI's checks (part of `make test`): types (svelte-check) and component tests (Vitest, jsdom).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/ui-deps.sh"
cd "$here/ui"
npx --no-install svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human
npx --no-install vitest run
