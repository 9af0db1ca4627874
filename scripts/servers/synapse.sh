#!/usr/bin/env bash
# A real Synapse homeserver for tests, from PyPI, cached in $KEYWARD_VENVS/synapse.
#   synapse.sh install            install (idempotent, quick when present)
#   synapse.sh start RUN_DIR      start two homeservers on 127.0.0.1 (a normal one, and one whose
#                                 access tokens expire after 3 s for the refresh tests); writes
#                                 RUN_DIR/synapse.env with their URLs and registration secrets
#   synapse.sh stop RUN_DIR       stop them by PID
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/env.sh"
V="$KEYWARD_VENVS/synapse"
SYNAPSE_VERSION="1.163.2"

install() {
  if [ -x "$V/bin/python" ] && "$V/bin/python" -c "import synapse, sys; sys.exit(0 if synapse.__version__ == '$SYNAPSE_VERSION' else 1)" 2>/dev/null; then
    return 0
  fi
  echo "installing Synapse $SYNAPSE_VERSION into $V"
  rm -rf "$V"
  python3 -m venv "$V"
  "$V/bin/pip" install -q --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION"
}

# start_one NAME RUN_DIR EXTRA_YAML ACCOUNT_LOGIN_LIMIT -> prints "port secret"
start_one() {
  local name=$1 run=$2 extra=$3 account_limit=$4
  local d="$run/$name" port secret
  rm -rf "$d"; mkdir -p "$d"
  port=$(free_port)
  secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "$V/bin/python" -m synapse.app.homeserver --server-name localhost --config-path "$d/homeserver.yaml" \
    --generate-config --report-stats=no --config-directory "$d" --data-directory "$d" >/dev/null
  cat > "$d/test.yaml" <<YAML
listeners:
  - port: $port
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: true
    resources: [{names: [client], compress: false}]
database: {name: sqlite3, args: {database: $d/homeserver.db}}
public_baseurl: http://127.0.0.1:$port/
serve_client_wellknown: true
registration_shared_secret: "$secret"
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
report_stats: false
log_config: $d/log.yaml
rc_login:
  address: {per_second: 1000, burst_count: 1000}
  account: $account_limit
  failed_attempts: {per_second: 1000, burst_count: 1000}
rc_message: {per_second: 1000, burst_count: 1000}
rc_admin_redaction: {per_second: 1000, burst_count: 1000}
$extra
YAML
  cat > "$d/log.yaml" <<YAML
version: 1
formatters: {precise: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}}
handlers: {file: {class: logging.FileHandler, formatter: precise, filename: $d/homeserver.log}}
root: {level: WARNING, handlers: [file]}
loggers: {synapse.access: {level: INFO}}
disable_existing_loggers: false
YAML
  (cd "$d"; nohup "$V/bin/python" -m synapse.app.homeserver -c "$d/homeserver.yaml" -c "$d/test.yaml" >"$d/stdout.log" 2>&1 & echo $! > "$run/synapse-$name.pid")
  echo "$port $secret"
}

start() {
  local run=$1; mkdir -p "$run"
  install
  read -r p1 s1 < <(start_one main "$run" "" "{per_second: 1000, burst_count: 1000}")
  # The second server: access tokens that expire after 3 s (refresh tests), and a tight per-account
  # login limit (rate-limit tests; each test uses its own user, so they do not disturb each other).
  read -r p2 s2 < <(start_one short "$run" "refreshable_access_token_lifetime: 3s" "{per_second: 0.1, burst_count: 2}")
  wait_http "http://127.0.0.1:$p1/health" 120 || { tail -20 "$run/main/stdout.log" "$run/main/homeserver.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$p2/health" 120 || { tail -20 "$run/short/stdout.log" >&2; exit 1; }
  cat > "$run/synapse.env" <<ENV
export KEYWARD_TEST_SYNAPSE_URL=http://127.0.0.1:$p1
export KEYWARD_TEST_SYNAPSE_SECRET=$s1
export KEYWARD_TEST_SYNAPSE_LOG=$run/main/homeserver.log
export KEYWARD_TEST_SYNAPSE_SHORT_URL=http://127.0.0.1:$p2
export KEYWARD_TEST_SYNAPSE_SHORT_SECRET=$s2
ENV
  echo "Synapse up on 127.0.0.1:$p1 and 127.0.0.1:$p2 (tokens expire after 3 s)"
}

stop() {
  local run=$1
  stop_pidfile "$run/synapse-main.pid"
  stop_pidfile "$run/synapse-short.pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?run dir}" ;;
  stop) stop "${2:?run dir}" ;;
  *) echo "usage: $0 install | start RUN_DIR | stop RUN_DIR" >&2; exit 2 ;;
esac
