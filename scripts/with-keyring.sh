#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked gnome-keyring, so tests use
# the real OS keyring (Secret Service) without touching the user's own. DISPLAY is unset for the
# keyring daemon so it can never pop up an unlock window.
#   with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
T=$(mktemp -d "${TMPDIR:-/tmp}/keyward-keyring.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/data" "$T/run" "$T/config"
chmod 700 "$T/run"
# Keep the real toolchain and caches reachable although HOME changes.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export KEYWARD_REAL_HOME="$HOME"
env HOME="$T" XDG_DATA_HOME="$T/data" XDG_RUNTIME_DIR="$T/run" XDG_CONFIG_HOME="$T/config" \
  dbus-run-session -- bash -c '
    echo -n keyward-test | env -u DISPLAY gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' keyring "$@"
