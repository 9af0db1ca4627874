#!/usr/bin/env bash
# Builds the desktop app: the web UI (npm ci when its lockfile changed, vite build), then
# `cargo build -p keyward-app`, which embeds ui/dist. Prints the binary's path on the last line.
#   build-app.sh [--release]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"

bash "$here/scripts/ui-deps.sh"
bash "$here/scripts/ui-build.sh"

profile=debug
args=()
if [ "${1:-}" = "--release" ]; then profile=release; args=(--release); fi
(cd "$here" && cargo build -q --locked -p keyward-app "${args[@]}")
echo "$CARGO_TARGET_DIR/$profile/keyward-app"
