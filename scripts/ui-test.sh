#!/usr/bin/env bash
# The web UI's component tests (Vitest, jsdom). Part of `make test`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/ui-deps.sh"
cd "$here/ui"
npx --no-install vitest run
