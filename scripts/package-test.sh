#!/usr/bin/env bash
# The packages as a user gets them (part of `make test`, after the end-to-end step): `make package`
# (a release build in the cached target dir, so a warm run only bundles), then the .deb installed
# on this machine with apt-get, and checked as installed:
#   - `keyward` on PATH is /usr/bin/keyward and works from there (--help, `list --json` with a
#     private config dir; with a Synapse named by KEYWARD_TEST_SYNAPSE_URL/_SECRET, as in `make
#     test`, it signs in to a fresh user there and lists that account's devices);
#   - the desktop entry, the icons at every hicolor size and the AppStream metainfo are installed
#     and valid (desktop-file-validate, appstreamcli validate --no-net);
#   - the installed app starts under Xvfb and shows its window; a second launch exits and leaves
#     one window (single instance); then it is quit;
# and the package removed again: /usr/bin/keyward is gone. Whatever happens, the machine is left as
# it was found (a trap removes the package and anything apt-get added with it, stops what was
# started). Needs root (apt-get), or sudo. Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
started=$(date +%s)
say() { printf 'package-test: %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/keyward-package-test.XXXXXX")
pkg=""
before="$T/packages-before"
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$pkg" ] && dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq "$pkg" >/dev/null 2>&1 || echo "package-test: could not remove $pkg" >&2
  fi
  # Anything apt-get pulled in for the package (normally nothing: scripts/system-deps.sh has it all).
  if [ -f "$before" ]; then
    mapfile -t added < <(comm -13 "$before" <(dpkg-query -W -f='${Package}\n' | sort))
    if ((${#added[@]})); then
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq "${added[@]}" >/dev/null 2>&1 || echo "package-test: could not remove ${added[*]}" >&2
    fi
  fi
  if [ "$rc" = 0 ]; then rm -rf "$T"; else
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    echo "package-test: files kept in $T" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$here/scripts/system-deps.sh"

# ---- build ----
make -s -C "$here" package >"$T/package.out"
deb=$(grep '\.deb$' "$T/package.out" | tail -1)
[ -f "$deb" ] || fail "make package printed no .deb: $(cat "$T/package.out")"
grep -q '\.rpm$' "$T/package.out" || fail "make package printed no .rpm"
name=$(dpkg-deb -f "$deb" Package)
say "built $(basename "$deb")"

# Never over a Keyward the machine already has: it would be removed afterwards.
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "ok installed"; then
  fail "package $name is installed already; remove it first (this test installs and removes it)"
fi
for f in /usr/bin/keyward /usr/bin/keyward-app; do [ ! -e "$f" ] || fail "$f exists already (not from a package)"; done

# ---- install ----
dpkg-query -W -f='${Package}\n' | sort >"$before"
pkg=$name
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >"$T/apt-install.log" 2>&1 \
  || fail "apt-get install $(basename "$deb")"
say "installed $pkg"

# ---- the CLI from PATH ----
home="$T/home"; mkdir -p "$home/config" "$home/data" "$home/cache" "$home/run" "$home/keyward"; chmod 700 "$home/run"
run_env=(env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data"
  XDG_CACHE_HOME="$home/cache" XDG_RUNTIME_DIR="$home/run" KEYWARD_CONFIG_DIR="$home/keyward"
  KEYWARD_KEYRING_SERVICE="keyward-package-test-$$" KEYWARD_KEYRING_TIMEOUT_SECS=20 PATH="/usr/bin:/bin")
[ "$(command -v keyward)" = /usr/bin/keyward ] || fail "command -v keyward is '$(command -v keyward || true)', not /usr/bin/keyward"
"${run_env[@]}" keyward --help >"$T/help.out" || fail "keyward --help"
grep -q "keyward watch\|  watch" "$T/help.out" || fail "keyward --help does not list its commands: $(head -5 "$T/help.out")"
"${run_env[@]}" keyward list --json >"$T/list-empty.json" 2>"$T/list-empty.log" || fail "keyward list --json (no accounts)"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v == [] or v == {} or isinstance(v, (list, dict)), v' "$T/list-empty.json" \
  || fail "keyward list --json printed no JSON: $(head -c 300 "$T/list-empty.json")"

if [ -n "${KEYWARD_TEST_SYNAPSE_URL:-}" ] && [ -n "${KEYWARD_TEST_SYNAPSE_SECRET:-}" ]; then
  # A fresh user on the real Synapse (shared-secret registration), signed in to by the installed CLI.
  user="pkgtest$$$(date +%s)"
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  KW_USER=$user KW_PASSWORD=$password python3 - <<'PY' || fail "registering a Synapse user"
import hashlib, hmac, json, os, urllib.request
url = os.environ["KEYWARD_TEST_SYNAPSE_URL"] + "/_synapse/admin/v1/register"
nonce = json.load(urllib.request.urlopen(url))["nonce"]
user, pw = os.environ["KW_USER"], os.environ["KW_PASSWORD"]
mac = hmac.new(os.environ["KEYWARD_TEST_SYNAPSE_SECRET"].encode(), f"{nonce}\0{user}\0{pw}\0notadmin".encode(), hashlib.sha1).hexdigest()
body = json.dumps({"nonce": nonce, "username": user, "password": pw, "admin": False, "mac": mac}).encode()
urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"})).read()
PY
  printf '%s\n' "$password" | "${run_env[@]}" KEYWARD_SYNAPSE="$KEYWARD_TEST_SYNAPSE_URL" KEYWARD_USER="$user" \
    bash "$here/scripts/with-keyring.sh" bash -c '
      set -e
      keyward add "$KEYWARD_SYNAPSE" --user "$KEYWARD_USER" --password-stdin >/dev/null
      keyward list --json' >"$T/list.json" 2>"$T/list.log" || fail "keyward add + list --json against Synapse"
  python3 - "$T/list.json" "$user" <<'PY' || fail "keyward list --json does not list the account's devices: $(head -c 400 "$T/list.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and rows, rows
assert any(sys.argv[2] in json.dumps(r) for r in rows), rows
PY
  say "keyward from PATH: --help, list --json (empty, and a Synapse account: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/list.json") rows)"
else
  say "keyward from PATH: --help, list --json (no Synapse named: the empty listing only)"
fi

# ---- what the desktop needs: entry, icons, metainfo ----
files=$(dpkg -L "$pkg")
desktop=$(grep '^/usr/share/applications/.*\.desktop$' <<<"$files" | head -1)
[ -n "$desktop" ] || fail "no desktop entry in $pkg"
grep -q '^Exec=keyward-app' "$desktop" || fail "$desktop does not start keyward-app: $(grep ^Exec "$desktop" || true)"
icon=$(sed -n 's/^Icon=//p' "$desktop")
for size in 32x32 64x64 128x128 256x256@2 512x512 scalable; do
  f=$(grep -E "^/usr/share/icons/hicolor/$size/apps/$icon\.(png|svg)$" <<<"$files" | head -1) || true
  if [ -z "$f" ] && [ "$size" = 256x256@2 ]; then f=$(grep -E "^/usr/share/icons/hicolor/256x256(@2)?/apps/$icon\.png$" <<<"$files" | head -1) || true; fi
  [ -n "$f" ] && [ -s "$f" ] || fail "no $size icon named $icon installed"
done
metainfo=/usr/share/metainfo/org.keyward.app.metainfo.xml
[ -s "$metainfo" ] || fail "no $metainfo"
launchable=$(sed -n 's:.*<launchable type="desktop-id">\(.*\)</launchable>.*:\1:p' "$metainfo")
[ "/usr/share/applications/$launchable" = "$desktop" ] || fail "the metainfo launches '$launchable', the package installs $desktop"
desktop-file-validate "$desktop" >"$T/desktop-file-validate.log" 2>&1 || fail "desktop-file-validate $desktop: $(cat "$T/desktop-file-validate.log")"
appstreamcli validate --no-net --pedantic "$metainfo" >"$T/appstreamcli.log" 2>&1 || fail "appstreamcli validate $metainfo: $(cat "$T/appstreamcli.log")"
say "desktop entry $(basename "$desktop"), icons, metainfo installed and valid"

# ---- the installed app under Xvfb: a window, one instance ----
app=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop")
[ "$(command -v "$app")" = "/usr/bin/$app" ] || fail "$app is not on PATH from /usr/bin"
display=""
for n in $(seq 141 190); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || fail "no free X display"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$T/xvfb.log" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X${display#:}" ] || fail "Xvfb did not start"

# One private session bus for both launches (the single-instance lock lives on it).
"${run_env[@]}" APP="$app" E2E_DISPLAY="$display" T="$T" dbus-run-session -- bash -c '
  set -u
  export DISPLAY="$E2E_DISPLAY"
  windows() { xdotool search --onlyvisible --name "^Keyward\$" 2>/dev/null | wc -l; }
  "$APP" >"$T/app.log" 2>&1 &
  first=$!
  for _ in $(seq 1 300); do [ "$(windows)" -ge 1 ] && break; kill -0 $first 2>/dev/null || break; sleep 0.1; done
  [ "$(windows)" = 1 ] || { echo "the installed app shows $(windows) windows named Keyward, not 1" >&2; kill $first 2>/dev/null; exit 1; }
  echo "window up: $(xdotool search --onlyvisible --name "^Keyward\$" getwindowgeometry | tr "\n" " ")"
  # A second launch hands over to the first and exits.
  timeout 20 "$APP" >"$T/app-second.log" 2>&1; rc=$?
  [ "$rc" = 0 ] || { echo "the second launch exited with $rc (124: it did not exit)" >&2; kill $first; exit 1; }
  sleep 1
  [ "$(windows)" = 1 ] || { echo "after a second launch: $(windows) windows" >&2; kill $first; exit 1; }
  kill -0 $first 2>/dev/null || { echo "the first instance is gone after the second launch" >&2; exit 1; }
  kill $first; wait $first 2>/dev/null
  exit 0
' >"$T/app-run.log" 2>&1 || fail "the installed app: $(cat "$T/app-run.log")"
say "installed app: $(grep '^window up' "$T/app-run.log"); a second launch exited and left one window"

# ---- remove ----
DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq "$pkg" >"$T/apt-remove.log" 2>&1 || fail "apt-get purge $pkg"
[ ! -e /usr/bin/keyward ] && [ ! -e "/usr/bin/$app" ] || fail "/usr/bin/keyward is still there after removing $pkg"
! command -v keyward >/dev/null || fail "keyward is still on PATH after removing $pkg: $(command -v keyward)"
[ ! -e "$metainfo" ] && [ ! -e "$desktop" ] || fail "the desktop entry or metainfo is still there after removing $pkg"
pkg=""
say "removed; /usr/bin/keyward is gone"
