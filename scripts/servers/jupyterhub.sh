#!/usr/bin/env bash
# A real JupyterHub for tests, from PyPI (the hub) and npm (its proxy), cached under $KEYWARD_CACHE.
#   jupyterhub.sh install          install (idempotent, quick when present: a version check)
#   jupyterhub.sh start RUN_DIR    start one hub on 127.0.0.1 with fresh data; seeds a service token
#                                  that may create users and read/delete their tokens, and an OAuth
#                                  client (a service) that tests use to make OAuth tokens; its admin
#                                  user "admin" signs in with its own password; writes
#                                  RUN_DIR/jupyterhub.env
#   jupyterhub.sh stop RUN_DIR     stop it by PID (the hub stops its proxy)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/env.sh"
V="$KEYWARD_VENVS/jupyterhub"
JUPYTERHUB_VERSION="6.1.1"
CHP_VERSION="5.3.0"
CHP_DIR="$KEYWARD_CACHE/chp-$CHP_VERSION"
CHP="$CHP_DIR/node_modules/.bin/configurable-http-proxy"

install() {
  if ! { [ -x "$V/bin/python" ] && "$V/bin/python" -c "import jupyterhub, sys; sys.exit(0 if jupyterhub.__version__ == '$JUPYTERHUB_VERSION' else 1)" 2>/dev/null; }; then
    echo "installing JupyterHub $JUPYTERHUB_VERSION into $V"
    rm -rf "$V"
    python3 -m venv "$V"
    "$V/bin/pip" install -q --disable-pip-version-check "jupyterhub==$JUPYTERHUB_VERSION"
  fi
  if [ ! -x "$CHP" ]; then
    echo "installing configurable-http-proxy $CHP_VERSION into $CHP_DIR"
    rm -rf "$CHP_DIR"; mkdir -p "$CHP_DIR"
    npm install --prefix "$CHP_DIR" --no-audit --no-fund --loglevel=error "configurable-http-proxy@$CHP_VERSION" >/dev/null
  fi
}

rand_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

start() {
  local run=$1 d port hub_port api_port service_token oauth_secret user_pw admin_pw
  mkdir -p "$run"
  install
  d="$run/jupyterhub"
  rm -rf "$d"; mkdir -p "$d"
  port=$(free_port); hub_port=$(free_port); api_port=$(free_port)
  service_token=$(rand_hex 24)
  oauth_secret=$(rand_hex 24)
  user_pw="user-$(rand_hex 8)"
  admin_pw="admin-$(rand_hex 20)"
  cat > "$d/jupyterhub_config.py" <<PY
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = $port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = $hub_port
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:$api_port"
c.ConfigurableHTTPProxy.command = ["$CHP"]
c.ConfigurableHTTPProxy.pid_file = "$d/proxy.pid"
c.JupyterHub.db_url = "sqlite:///$d/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "$d/cookie_secret"
c.JupyterHub.pid_file = "$d/jupyterhub.pid"
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = "$user_pw"
c.SharedPasswordAuthenticator.admin_password = "$admin_pw"
c.Authenticator.admin_users = {"admin"}
c.Authenticator.allow_all = True
# Record every use of a token at once, so tests can see last_activity change.
c.JupyterHub.activity_resolution = 1
c.JupyterHub.services = [
    {"name": "keyward-test", "api_token": "$service_token"},
    {
        "name": "notebook-viewer",
        "oauth_client_id": "service-notebook-viewer",
        "api_token": "$oauth_secret",
        "oauth_redirect_uri": "http://127.0.0.1:$port/services/notebook-viewer/oauth_callback",
        "oauth_no_confirm": True,
    },
]
c.JupyterHub.load_roles = [
    {"name": "keyward-test", "scopes": ["admin:users", "tokens", "read:users"], "services": ["keyward-test"]},
    # Every user may sign in to the OAuth service, as users of a real hub may use its services.
    {"name": "user", "scopes": ["self", "access:services"]},
]
PY
  # `cd` apart: `(cd && nohup X &)` would background a subshell and record its PID, not the hub's.
  (cd "$d"; nohup "$V/bin/jupyterhub" -f "$d/jupyterhub_config.py" >"$d/jupyterhub.log" 2>&1 & echo $! > "$run/jupyterhub.pid")
  wait_http "http://127.0.0.1:$port/hub/api/" 90 || { tail -30 "$d/jupyterhub.log" >&2; exit 1; }
  cat > "$run/jupyterhub.env" <<ENV
export KEYWARD_TEST_JUPYTERHUB_URL=http://127.0.0.1:$port
export KEYWARD_TEST_JUPYTERHUB_SERVICE_TOKEN=$service_token
export KEYWARD_TEST_JUPYTERHUB_PASSWORD=$user_pw
export KEYWARD_TEST_JUPYTERHUB_ADMIN=admin
export KEYWARD_TEST_JUPYTERHUB_ADMIN_PASSWORD=$admin_pw
export KEYWARD_TEST_JUPYTERHUB_OAUTH_CLIENT=service-notebook-viewer
export KEYWARD_TEST_JUPYTERHUB_OAUTH_SECRET=$oauth_secret
export KEYWARD_TEST_JUPYTERHUB_OAUTH_REDIRECT=http://127.0.0.1:$port/services/notebook-viewer/oauth_callback
ENV
  echo "JupyterHub up on 127.0.0.1:$port"
}

stop() {
  local run=$1
  stop_pidfile "$run/jupyterhub.pid"
  # The hub stops its proxy on SIGTERM; a hub killed hard leaves it: stop it by its PID file.
  stop_pidfile "$run/jupyterhub/proxy.pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?run dir}" ;;
  stop) stop "${2:?run dir}" ;;
  *) echo "usage: $0 install | start RUN_DIR | stop RUN_DIR" >&2; exit 2 ;;
esac
