#!/usr/bin/env bash
# A real Home Assistant for tests, from PyPI, cached in $KEYWARD_VENVS/homeassistant.
#   homeassistant.sh install          install (idempotent, quick when present: a version check), and
#                                     once a booted template config dir with an owner (onboarding
#                                     done) and the test users in it (the first boot installs the
#                                     default integrations' packages; a copy of it starts in seconds)
#   homeassistant.sh start RUN_DIR    copy the template fresh into RUN_DIR, start it on 127.0.0.1;
#                                     writes RUN_DIR/homeassistant.env (URL, users, password)
#   homeassistant.sh stop RUN_DIR     stop it by PID
#
# Tests each take their own user (kw1 … kw$USERS) so they can run at once without seeing each
# other's sessions. Users live in the auth provider's storage; HA makes the user record at the
# first login. The users kwmfa1 and kwmfa2 have two-factor login: the TOTP module (the
# authenticator-app codes of RFC 6238, 30 s, 6 digits, SHA-1) is enrolled for them with the
# known secret $TOTP_SECRET, so that tests can compute their codes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/env.sh"
V="$KEYWARD_VENVS/homeassistant"
HA_VERSION="2024.3.3"
USERS=13
PASSWORD="keyward-test-pw"
TEMPLATE="$KEYWARD_CACHE/homeassistant-template-$HA_VERSION-u$USERS"
# The template above with the two-factor users enrolled (a new name: an older cache without them
# is never taken for it).
MFA_USERS="kwmfa1 kwmfa2"
TOTP_SECRET="KEYWARDTESTTOTPSECRETBASE32AAAAA"
TOTP_TEMPLATE="$TEMPLATE-totp1"

config_yaml() { # port
  cat <<YAML
homeassistant:
  name: Keyward test
  time_zone: UTC
  auth_providers:
    - type: homeassistant
  auth_mfa_modules:
    - type: totp
http:
  server_host: 127.0.0.1
  server_port: $1
api:
websocket_api:
YAML
}

install_venv() {
  if [ -x "$V/bin/python" ] && "$V/bin/python" -c "from homeassistant.const import __version__ as v; import sys; sys.exit(0 if v == '$HA_VERSION' else 1)" 2>/dev/null; then
    return 0
  fi
  echo "installing Home Assistant $HA_VERSION into $V"
  rm -rf "$V" "$TEMPLATE" "$TOTP_TEMPLATE"
  python3 -m venv "$V"
  local tmp; tmp=$(mktemp -d)
  # Plain `pip install homeassistant` backtracks for minutes: pin everything to the wheel's own
  # constraints. josepy 2 breaks every request (500), so keep it below 2.
  "$V/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" "homeassistant==$HA_VERSION"
  "$V/bin/python" - "$tmp" <<'PY'
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/homeassistant-*.whl")[0]
with zipfile.ZipFile(whl) as z:
    data = z.read("homeassistant/package_constraints.txt").decode()
open(sys.argv[1] + "/constraints.txt", "w").write(data)
PY
  "$V/bin/pip" install -q --disable-pip-version-check -c "$tmp/constraints.txt" "$tmp"/homeassistant-*.whl "josepy<2"
  rm -rf "$tmp"
}

# Answers with any HTTP status (Home Assistant is up), or gives up after $2 seconds.
wait_up() {
  local url=$1 limit=$2 i=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" 2>/dev/null)" != "000" ]; do
    i=$((i + 1)); [ "$i" -ge "$limit" ] && return 1; sleep 1
  done
}

# Boots a config dir once and stops it: the slow first boot, in which Home Assistant installs its
# default integrations' requirements into the venv. Finishes onboarding by making the owner (as a
# person would in the browser; until then /auth/providers answers 400), and adds the test users.
make_template() {
  [ -f "$TEMPLATE/.ready" ] && return 0
  echo "making the Home Assistant template config in $TEMPLATE"
  local t="$TEMPLATE.tmp" port pid
  rm -rf "$t" "$TEMPLATE"; mkdir -p "$t"
  port=$(free_port)
  config_yaml "$port" > "$t/configuration.yaml"
  "$V/bin/hass" -c "$t" >"$t/first-boot.log" 2>&1 & pid=$!
  if ! wait_up "http://127.0.0.1:$port/auth/providers" 600; then
    kill "$pid" 2>/dev/null || true; tail -30 "$t/first-boot.log" >&2; exit 1
  fi
  curl -fsS -o /dev/null -X POST "http://127.0.0.1:$port/api/onboarding/users" -H 'Content-Type: application/json' \
    -d "{\"client_id\":\"http://127.0.0.1:$port/\",\"name\":\"Owner\",\"username\":\"owner\",\"password\":\"$PASSWORD\",\"language\":\"en\"}"
  wait_http "http://127.0.0.1:$port/auth/providers" 30
  kill "$pid"; wait "$pid" 2>/dev/null || true
  for i in $(seq 1 "$USERS"); do
    "$V/bin/hass" --script auth -c "$t" add "kw$i" "$PASSWORD" >/dev/null
  done
  rm -f "$t/first-boot.log" "$t"/home-assistant.log*
  touch "$t/.ready"
  mv "$t" "$TEMPLATE"
}

# The template with the TOTP module enrolled for $MFA_USERS: they are added, signed in once
# (Home Assistant makes a user record at the first token exchange; the module is keyed by its id), and
# then, with Home Assistant stopped, the module's storage gets their secret.
make_totp_template() {
  [ -f "$TOTP_TEMPLATE/.ready" ] && return 0
  echo "enrolling two-factor users in $TOTP_TEMPLATE"
  local t="$TOTP_TEMPLATE.tmp" port pid u
  rm -rf "$t" "$TOTP_TEMPLATE"; cp -a "$TEMPLATE" "$t"; rm -f "$t/.ready"
  "$V/bin/python" -c "import pyotp, pyqrcode" 2>/dev/null ||
    "$V/bin/pip" install -q --disable-pip-version-check "pyotp==2.8.0" "PyQRCode==1.2.1"
  for u in $MFA_USERS; do "$V/bin/hass" --script auth -c "$t" add "$u" "$PASSWORD" >/dev/null; done
  port=$(free_port)
  config_yaml "$port" > "$t/configuration.yaml"
  "$V/bin/hass" -c "$t" --skip-pip >"$t/boot.log" 2>&1 & pid=$!
  if ! wait_http "http://127.0.0.1:$port/auth/providers" 120; then
    kill "$pid" 2>/dev/null || true; tail -30 "$t/boot.log" >&2; exit 1
  fi
  "$V/bin/python" - "http://127.0.0.1:$port" "$PASSWORD" $MFA_USERS <<'PY'
import json, sys, urllib.parse, urllib.request
base, password, users = sys.argv[1], sys.argv[2], sys.argv[3:]
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
client = base + "/"
for u in users:
    flow = post("/auth/login_flow", {"client_id": client, "handler": ["homeassistant", None], "redirect_uri": client})
    step = post("/auth/login_flow/" + flow["flow_id"], {"client_id": client, "username": u, "password": password})
    assert step["type"] == "create_entry", step
    # The user record is made when the code is exchanged for tokens.
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": step["result"], "client_id": client}).encode()
    assert "refresh_token" in json.load(urllib.request.urlopen(urllib.request.Request(base + "/auth/token", form)))
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
  "$V/bin/python" - "$t/.storage" "$TOTP_SECRET" $MFA_USERS <<'PY'
import json, os, sys
storage, secret, users = sys.argv[1], sys.argv[2], sys.argv[3:]
auth = json.load(open(os.path.join(storage, "auth")))["data"]
ids = {c["data"].get("username"): c["user_id"] for c in auth["credentials"] if c["auth_provider_type"] == "homeassistant"}
missing = [u for u in users if u not in ids]
assert not missing, f"no user record for {missing}"
path = os.path.join(storage, "auth_module.totp")
data = {"version": 1, "minor_version": 1, "key": "auth_module.totp", "data": {"users": {ids[u]: secret for u in users}}}
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(data, f)
PY
  rm -f "$t/boot.log" "$t"/home-assistant.log*
  touch "$t/.ready"
  mv "$t" "$TOTP_TEMPLATE"
}

install() {
  install_venv
  make_template
  make_totp_template
}

start() {
  local run=$1 d port
  mkdir -p "$run"
  install
  d="$run/homeassistant"
  rm -rf "$d"; cp -a "$TOTP_TEMPLATE" "$d"
  port=$(free_port)
  config_yaml "$port" > "$d/configuration.yaml"
  (nohup "$V/bin/hass" -c "$d" --skip-pip >"$d/stdout.log" 2>&1 & echo $! > "$run/homeassistant.pid")
  wait_http "http://127.0.0.1:$port/auth/providers" 120 || { tail -30 "$d/stdout.log" >&2; exit 1; }
  local users=""
  for i in $(seq 1 "$USERS"); do users="$users kw$i"; done
  cat > "$run/homeassistant.env" <<ENV
export KEYWARD_TEST_HA_URL=http://127.0.0.1:$port
export KEYWARD_TEST_HA_USERS="${users# }"
export KEYWARD_TEST_HA_PASSWORD=$PASSWORD
export KEYWARD_TEST_HA_MFA_USERS="$MFA_USERS"
export KEYWARD_TEST_HA_TOTP_SECRET=$TOTP_SECRET
ENV
  echo "Home Assistant up on 127.0.0.1:$port"
}

stop() {
  stop_pidfile "$1/homeassistant.pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?run dir}" ;;
  stop) stop "${2:?run dir}" ;;
  *) echo "usage: $0 install | start RUN_DIR | stop RUN_DIR" >&2; exit 2 ;;
esac
