#!/usr/bin/env bash
# Builds the desktop app: the web UI (npm ci when its lockfile changed, vite build), then
# `cargo build -p keyward-app`, which embeds ui/dist. Prints the binary's path on the last line.
#   build-app.sh [--release]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"

bash "$here/scripts/ui-deps.sh"
(cd "$here/ui" && npm run --silent build >"${TMPDIR:-/tmp}/keyward-ui-build.log" 2>&1) || { cat "${TMPDIR:-/tmp}/keyward-ui-build.log" >&2; exit 1; }

profile=debug
args=()
if [ "${1:-}" = "--release" ]; then profile=release; args=(--release); fi
(cd "$here" && cargo build -q --locked -p keyward-app "${args[@]}")
echo "$CARGO_TARGET_DIR/$profile/keyward-app"
