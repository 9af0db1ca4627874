#!/usr/bin/env bash
# End-to-end test of the real desktop app (part of `make test`): the built keyward-app under Xvfb,
# driven by ui/e2e/app.e2e.mjs through tauri-driver and WebKitWebDriver, against the Synapse named
# by KEYWARD_TEST_SYNAPSE_URL / KEYWARD_TEST_SYNAPSE_SECRET (one is started here when they are not
# set). Runs in a private D-Bus session with a fresh, unlocked gnome-keyring, a temporary config
# directory and its own keyring service name, so it touches nothing of the user's; on that bus and
# display run a real tray host (xfce4-panel) and notification server (dunst) for the background
# watch's test (scripts/headless.sh sets all this up, for scripts/bench-app.sh too). Writes
# docs/main-light.png, docs/main-dark.png, docs/revoke-dialog.png, docs/checkup.png and docs/safe-mode.png; screenshots only for looking at
# (200% zoom, the account heading) go to KEYWARD_E2E_SHOTS when set. Exits non-zero on any failure.
# E2E_PATTERN=<words> runs only the tests whose names match (node --test-name-pattern).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"

. "$here/scripts/headless.sh"

T=$(mktemp -d /tmp/keyward-e2e.XXXXXX)
own_synapse=""
cleanup() {
  local rc=$?
  headless_stop
  if [ -n "$own_synapse" ]; then bash "$here/scripts/servers/synapse.sh" stop "$own_synapse" || true; fi
  if [ "$rc" = 0 ]; then rm -rf "$T"; else
    for f in "$T"/logs/*.log "$T"/desktop-*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }; done
    echo "e2e: failed; files kept in $T" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT

if [ -z "${KEYWARD_TEST_SYNAPSE_URL:-}" ] || [ -z "${KEYWARD_TEST_SYNAPSE_SECRET:-}" ]; then
  own_synapse="$T/synapse"
  bash "$here/scripts/servers/synapse.sh" start "$own_synapse"
  . "$own_synapse/synapse.env"
fi

# tauri-driver, pinned, installed once into the cache.
if ! command -v tauri-driver >/dev/null; then
  cargo install -q tauri-driver --locked --version 2.1.0 --root "$KEYWARD_TOOLS"
fi
driver=$(command -v tauri-driver)
command -v WebKitWebDriver >/dev/null || { echo "e2e: WebKitWebDriver missing (apt-get install webkit2gtk-driver)" >&2; exit 1; }

app=$(bash "$here/scripts/build-app.sh" | tail -1)
# The CLI, for adding accounts of other kinds into the app's store (the last screenshot).
(cd "$here" && cargo build -q --locked --bin keyward)

# The display, with a tray (xfce4-panel's notification area) and a notification server (dunst),
# which the background watch's test talks to.
export HEADLESS_DESKTOP=1
headless_start "$T"
mkdir -p "$T/keyward"

# Inside a private session bus with a fresh unlocked keyring (scripts/headless.sh).
headless_run "$T" e2e \
  KEYWARD_CONFIG_DIR="$T/keyward" KEYWARD_KEYRING_SERVICE="keyward-e2e-$$" KEYWARD_KEYRING_TIMEOUT_SECS=20 \
  KEYWARD_E2E_APP="$app" KEYWARD_E2E_TAURI_DRIVER="$driver" KEYWARD_E2E_DOCS="${KEYWARD_E2E_DOCS:-$here/docs}" KEYWARD_E2E_LOGS="$T/logs" \
  KEYWARD_E2E_CLI="$CARGO_TARGET_DIR/debug/keyward" KEYWARD_E2E_MOODLE_SIM="$here/tests/sim/moodle.py" \
  KEYWARD_TEST_SYNAPSE_URL="$KEYWARD_TEST_SYNAPSE_URL" KEYWARD_TEST_SYNAPSE_SECRET="$KEYWARD_TEST_SYNAPSE_SECRET" \
  E2E_PATTERN="${E2E_PATTERN:-}" -- \
  bash -c 'timeout 900 node --test --test-concurrency=1 ${E2E_PATTERN:+--test-name-pattern="$E2E_PATTERN"} "$0"' "$here/ui/e2e/app.e2e.mjs"

