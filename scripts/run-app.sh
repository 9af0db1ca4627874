#!/usr/bin/env bash
# `make run`: installs what is missing, builds the UI and the app, and starts Keyward.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
bash "$here/scripts/system-deps.sh"
app=$(bash "$here/scripts/build-app.sh" | tail -1)
exec "$app" "$@"
