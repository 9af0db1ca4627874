#!/usr/bin/env bash
# Installs the npm packages the app build needs: the web UI's (ui/package-lock.json) and the
# core's build data (the root package-lock.json: uap-core), each only when missing or changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/npm-ci.sh" "$root"
bash "$root/scripts/npm-ci.sh" "$root/ui"
