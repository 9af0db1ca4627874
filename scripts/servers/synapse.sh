#!/usr/bin/env bash
# A real Synapse homeserver for tests, from PyPI, cached in $KEYWARD_VENVS/synapse.
#   synapse.sh install            install (idempotent, quick when present)
#   synapse.sh start RUN_DIR      start three homeservers on 127.0.0.1 (a normal one, one whose
#                                 access tokens expire after 3 s for the refresh tests, and one
#                                 with single sign-on through a real OpenID provider, the npm
#                                 `oidc-provider` run by oidc-idp.mjs, offered as two identity
#                                 providers); writes RUN_DIR/synapse.env with their URLs and
#                                 registration secrets
#   synapse.sh stop RUN_DIR       stop them by PID
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/env.sh"
V="$KEYWARD_VENVS/synapse"
SYNAPSE_VERSION="1.163.2"

install() {
  # With the `oidc` extra (authlib): the single sign-on homeserver speaks OpenID Connect.
  if [ -x "$V/bin/python" ] && "$V/bin/python" -c "import synapse, sys; sys.exit(0 if synapse.__version__ == '$SYNAPSE_VERSION' else 1)" 2>/dev/null; then
    "$V/bin/python" -c "import authlib" 2>/dev/null && return 0
    echo "adding Synapse's oidc extra to $V"
    "$V/bin/pip" install -q --disable-pip-version-check "matrix-synapse[oidc]==$SYNAPSE_VERSION"
    return 0
  fi
  echo "installing Synapse $SYNAPSE_VERSION into $V"
  rm -rf "$V"
  python3 -m venv "$V"
  "$V/bin/pip" install -q --disable-pip-version-check "matrix-synapse[oidc]==$SYNAPSE_VERSION"
}

# start_one NAME RUN_DIR EXTRA_YAML ACCOUNT_LOGIN_LIMIT [PORT] -> prints "port secret"
start_one() {
  local name=$1 run=$2 extra=$3 account_limit=$4
  local d="$run/$name" port secret
  rm -rf "$d"; mkdir -p "$d"
  port=${5:-$(free_port)}
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
  # The third: single sign-on only (no password login), through two identity providers that are two
  # clients of one real OpenID provider.
  local p3 idp idp_pw s_one s_two
  p3=$(free_port); idp=$(free_port)
  idp_pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  s_one=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'); s_two=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  [ -d "$here/../node_modules/oidc-provider" ] || bash "$here/npm-ci.sh" "$here/.." >/dev/null
  (OIDC_IDP_PORT=$idp OIDC_IDP_REDIRECT="http://127.0.0.1:$p3/_synapse/client/oidc/callback" \
    OIDC_IDP_CLIENTS="keyward-test-one:$s_one,keyward-test-two:$s_two" OIDC_IDP_PASSWORD="$idp_pw" \
    nohup node "$here/servers/oidc-idp.mjs" >"$run/oidc-idp.log" 2>&1 & echo $! > "$run/oidc-idp.pid")
  wait_http "http://127.0.0.1:$idp/.well-known/openid-configuration" 60 || { tail -20 "$run/oidc-idp.log" >&2; exit 1; }
  read -r p3 s3 < <(start_one sso "$run" "password_config: {enabled: false}
oidc_providers:
$(for n in one two; do s=$s_one; [ $n = two ] && s=$s_two; cat <<IDP
  - idp_id: $n
    idp_name: "Test identity provider $n"
    issuer: "http://127.0.0.1:$idp"
    client_id: keyward-test-$n
    client_secret: "$s"
    scopes: [openid, profile]
    skip_verification: true
    user_profile_method: userinfo_endpoint
    user_mapping_provider:
      config:
        subject_template: "{{ user.sub }}"
        localpart_template: "{{ user.preferred_username }}"
        display_name_template: "{{ user.name }}"
IDP
done)" "{per_second: 1000, burst_count: 1000}" "$p3")
  wait_http "http://127.0.0.1:$p1/health" 120 || { tail -20 "$run/main/stdout.log" "$run/main/homeserver.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$p2/health" 120 || { tail -20 "$run/short/stdout.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$p3/health" 120 || { tail -20 "$run/sso/stdout.log" "$run/sso/homeserver.log" >&2; exit 1; }
  cat > "$run/synapse.env" <<ENV
export KEYWARD_TEST_SYNAPSE_URL=http://127.0.0.1:$p1
export KEYWARD_TEST_SYNAPSE_SECRET=$s1
export KEYWARD_TEST_SYNAPSE_LOG=$run/main/homeserver.log
export KEYWARD_TEST_SYNAPSE_SHORT_URL=http://127.0.0.1:$p2
export KEYWARD_TEST_SYNAPSE_SHORT_SECRET=$s2
export KEYWARD_TEST_SYNAPSE_SSO_URL=http://127.0.0.1:$p3
export KEYWARD_TEST_SYNAPSE_SSO_SECRET=$s3
export KEYWARD_TEST_OIDC_URL=http://127.0.0.1:$idp
export KEYWARD_TEST_OIDC_PASSWORD=$idp_pw
ENV
  echo "Synapse up on 127.0.0.1:$p1, 127.0.0.1:$p2 (tokens expire after 3 s) and 127.0.0.1:$p3 (single sign-on through 127.0.0.1:$idp)"
}

stop() {
  local run=$1
  stop_pidfile "$run/synapse-main.pid"
  stop_pidfile "$run/synapse-short.pid"
  stop_pidfile "$run/synapse-sso.pid"
  stop_pidfile "$run/oidc-idp.pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?run dir}" ;;
  stop) stop "${2:?run dir}" ;;
  *) echo "usage: $0 install | start RUN_DIR | stop RUN_DIR" >&2; exit 2 ;;
esac
