#!/usr/bin/env bash
# Benchmarks of the desktop app for docs/performance.md (not part of `make test`; they measure,
# never assert): ui/e2e/bench.mjs, through tauri-driver and WebKitWebDriver under Xvfb, with the
# RELEASE keyward-app and CLI:
#   - cold start to the cached list of 5 accounts / 1,000 credentials against the empty window
#     (Welcome), alternating, medians and the ratio, and the memory of the app and its web process;
#   - frames per second and the slowest frame while scrolling 5,000 credentials in the window.
# Same setup as scripts/e2e.sh (scripts/headless.sh, without the tray and notification server): a private D-Bus session with a fresh unlocked gnome-keyring,
# temporary HOME/XDG/config directories and its own keyring service name, so nothing of the user's
# is touched. No test server is needed (the accounts come from scripts/bench/matrix_canned.py,
# stopped before the app starts). BENCH_RUNS sets the counted starts per side (default 5).
# The figures go to stdout (Markdown) and, as JSON, to BENCH_OUT (default: kept in the temp dir).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"

. "$here/scripts/headless.sh"

T=$(mktemp -d /tmp/keyward-bench-app.XXXXXX)
cleanup() {
  local rc=$?
  headless_stop
  if [ "$rc" = 0 ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$T"; else echo "bench-app: files kept in $T" >&2; fi
  exit "$rc"
}
trap cleanup EXIT

if ! command -v tauri-driver >/dev/null; then
  cargo install -q tauri-driver --locked --version 2.1.0 --root "$KEYWARD_TOOLS"
fi
driver=$(command -v tauri-driver)
command -v WebKitWebDriver >/dev/null || { echo "bench-app: WebKitWebDriver missing (apt-get install webkit2gtk-driver)" >&2; exit 1; }

bash "$here/scripts/npm-ci.sh" "$here"
app=$(bash "$here/scripts/build-app.sh" --release | tail -1)
(cd "$here" && cargo build -q --locked --release --bin keyward)

headless_start "$T"
mkdir -p "$T/work"

webkit=$(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo unknown)
echo "keyward $(git -C "$here" rev-parse --short HEAD), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB, WebKitGTK $webkit, Xvfb 1280x800x24 (software rendering)"

headless_run "$T" bench \
  KEYWARD_KEYRING_SERVICE="keyward-bench-app-$$" KEYWARD_KEYRING_TIMEOUT_SECS=20 \
  KEYWARD_BENCH_APP="$app" KEYWARD_BENCH_TAURI_DRIVER="$driver" KEYWARD_BENCH_CLI="$CARGO_TARGET_DIR/release/keyward" \
  KEYWARD_BENCH_CANNED="$here/scripts/bench/matrix_canned.py" KEYWARD_BENCH_WORK="$T/work" \
  BENCH_OUT="${BENCH_OUT:-$T/bench-app.json}" -- \
  timeout 900 node "$here/ui/e2e/bench.mjs"
