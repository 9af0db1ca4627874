#!/usr/bin/env bash
# Benchmarks of the desktop app for docs/performance.md (not part of `make test`; they measure,
# never assert): ui/e2e/bench.mjs, through tauri-driver and WebKitWebDriver under Xvfb, with the
# RELEASE keyward-app and CLI:
#   - cold start to the cached list of 5 accounts / 1,000 credentials against the empty window
#     (Welcome), alternating, medians and the ratio, and the memory of the app and its web process;
#   - frames per second and the slowest frame while scrolling 5,000 credentials in the window.
# Same setup as scripts/e2e.sh: a private D-Bus session with a fresh unlocked gnome-keyring,
# temporary HOME/XDG/config directories and its own keyring service name, so nothing of the user's
# is touched. No test server is needed (the accounts come from scripts/bench/matrix_canned.py,
# stopped before the app starts). BENCH_RUNS sets the counted starts per side (default 5).
# The figures go to stdout (Markdown) and, as JSON, to BENCH_OUT (default: kept in the temp dir).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"

T=$(mktemp -d /tmp/keyward-bench-app.XXXXXX)
xvfb_pid=""
cleanup() {
  local rc=$?
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; fi
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

display=""
for n in $(seq 90 140); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "bench-app: no free X display" >&2; exit 1; }
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
kill -0 "$xvfb_pid" 2>/dev/null || { echo "bench-app: Xvfb did not start" >&2; cat "$T/xvfb.log" >&2; exit 1; }

mkdir -p "$T/home" "$T/data" "$T/config" "$T/cache" "$T/run" "$T/work"
chmod 700 "$T/run"

webkit=$(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo unknown)
echo "keyward $(git -C "$here" rev-parse --short HEAD), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB, WebKitGTK $webkit, Xvfb 1280x800x24 (software rendering)"

env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS \
  HOME="$T/home" XDG_DATA_HOME="$T/data" XDG_CONFIG_HOME="$T/config" XDG_CACHE_HOME="$T/cache" XDG_RUNTIME_DIR="$T/run" \
  KEYWARD_KEYRING_SERVICE="keyward-bench-app-$$" KEYWARD_KEYRING_TIMEOUT_SECS=20 \
  KEYWARD_BENCH_APP="$app" KEYWARD_BENCH_TAURI_DRIVER="$driver" KEYWARD_BENCH_CLI="$CARGO_TARGET_DIR/release/keyward" \
  KEYWARD_BENCH_CANNED="$here/scripts/bench/matrix_canned.py" KEYWARD_BENCH_WORK="$T/work" \
  BENCH_OUT="${BENCH_OUT:-$T/bench-app.json}" E2E_DISPLAY="$display" BENCH="$here/ui/e2e/bench.mjs" \
  dbus-run-session -- bash -c '
    set -e
    echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    export DISPLAY="$E2E_DISPLAY"
    timeout 900 node "$BENCH"
  '
