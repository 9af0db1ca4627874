#!/usr/bin/env bash
# Real WordPress sites for tests: Debian's `wordpress` (6.1) on MariaDB, served by `php -S`.
#   wordpress.sh install          build the cached, installed database once (quick when present)
#   wordpress.sh start RUN_DIR    copy that database and the site into RUN_DIR, start MariaDB on a
#                                 unix socket and three sites on 127.0.0.1 over the same database:
#                                   main       environment "local" (application passwords work
#                                              over http), pretty permalinks (/wp-json/)
#                                   plain      plain permalinks (?rest_route= only), and the
#                                              REST API closed to visitors (as plugins do)
#                                   production environment "production": WordPress turns
#                                              application passwords off over http
#                                 then makes a fresh application password for the administrator
#                                 and writes RUN_DIR/wordpress.env
#   wordpress.sh stop RUN_DIR     stop them by PID
# The site's time zone is Asia/Kolkata (UTC+5:30), so a time read in the wrong zone shows.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/env.sh"
files="$here/servers/wordpress"
WP_SRC=/usr/share/wordpress
# Bump when the cached database must be rebuilt (a different seed).
SEED_VERSION=1
PHP_WORKERS=4

# Like env.sh's stop_pidfile, but a zombie counts as stopped: `php -S` and its workers are
# reparented to PID 1 when their starter exits, and a PID 1 that does not reap (some containers)
# would keep them as zombies for stop_pidfile's whole 15 s wait.
# (Read from /proc: procps may be missing where this runs.)
stop_pid() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    running "$pid" || break
    sleep 0.1
  done
  if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$f"
}

# Is PID alive (and not a zombie)?
running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ]
}

# The PIDs whose parent is $1.
children() {
  awk -v p="$1" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null || true
}

as_root=()
[ "$(id -u)" = 0 ] && as_root=(--user=root)

wp_version() { sed -n "s/^\$wp_version = '\(.*\)';/\1/p" "$WP_SRC/wp-includes/version.php"; }
cache_file() {
  local mdb
  mdb=$(mariadbd --version | awk '{print $3}')
  echo "$KEYWARD_CACHE/wordpress/db-wp$(wp_version)-mariadb$mdb-seed$SEED_VERSION.tar.gz"
}

# start_db DATADIR DIR: mariadbd on DIR/mysql.sock, no TCP; PID in DIR/../NAME pidfile given as $3.
start_db() {
  local data=$1 dir=$2 pidfile=$3
  (nohup mariadbd --no-defaults "${as_root[@]}" --datadir="$data" --socket="$dir/mysql.sock" \
     --skip-networking --pid-file="$dir/mariadbd.pid" --log-error="$dir/mariadbd.log" --tmpdir="$dir" \
     --innodb-buffer-pool-size=32M --innodb-log-file-size=8M --skip-log-bin >/dev/null 2>&1 &
   echo $! > "$pidfile")
  local i=0
  until mariadb-admin --no-defaults -S "$dir/mysql.sock" -uroot ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 300 ]; then echo "MariaDB did not start:" >&2; tail -20 "$dir/mariadbd.log" >&2; return 1; fi
    sleep 0.1
  done
}

# make_site DIR: a private copy of Debian's WordPress with the test config (Debian's own
# wp-config.php looks for /etc/wordpress/config-<host>.php; this one reads the environment).
make_site() {
  local site=$1
  cp -a "$WP_SRC" "$site"
  rm -f "$site/wp-config.php" "$site/.htaccess"
  cp "$files/wp-config.php" "$files/router.php" "$site/"
  mkdir -p "$site/wp-content/mu-plugins"
  cp "$files/keyward-test.php" "$site/wp-content/mu-plugins/"
}

# serve SITE PORT PIDFILE LOG ENV...: php -S with the router; writes the PIDs of the server and
# of its workers (they outlive their parent) to PIDFILE, PIDFILE.w1, ...
serve() {
  local site=$1 port=$2 pidfile=$3 log=$4; shift 4
  (cd "$site"; env "$@" KEYWARD_WP_URL="http://127.0.0.1:$port" PHP_CLI_SERVER_WORKERS=$PHP_WORKERS \
     nohup php -d opcache.enable_cli=1 -S "127.0.0.1:$port" -t "$site" "$site/router.php" >"$log" 2>&1 & echo $! > "$pidfile")
}

record_workers() {
  local pidfile=$1 n=0 w
  for w in $(children "$(cat "$pidfile")"); do
    n=$((n + 1)); echo "$w" > "$pidfile.w$n"
  done
}

install() {
  for cmd in php mariadbd mariadb-install-db mariadb-admin; do
    command -v "$cmd" >/dev/null || { echo "$cmd is missing: run scripts/system-deps.sh" >&2; exit 1; }
  done
  [ -f "$WP_SRC/wp-includes/version.php" ] || { echo "Debian's wordpress package is missing: run scripts/system-deps.sh" >&2; exit 1; }
  php -r 'exit(extension_loaded("mysqli") ? 0 : 1);' || { echo "php8.2-mysql is missing: run scripts/system-deps.sh" >&2; exit 1; }
  local cache; cache=$(cache_file)
  [ -f "$cache" ] && return 0

  echo "building the WordPress $(wp_version) test database into $cache"
  mkdir -p "$(dirname "$cache")"
  local t port
  t=$(mktemp -d "${TMPDIR:-/tmp}/keyward-wp-install.XXXXXX")
  # shellcheck disable=SC2064
  trap "stop_pid '$t/php.pid'; for f in '$t'/php.pid.w*; do stop_pid \"\$f\"; done; stop_pid '$t/db.pid'; rm -rf '$t'" EXIT
  mkdir -p "$t/run"
  mariadb-install-db --no-defaults "${as_root[@]}" --datadir="$t/data" --auth-root-authentication-method=normal \
    --skip-test-db --innodb-log-file-size=8M >"$t/install-db.log" 2>&1 || { tail -20 "$t/install-db.log" >&2; exit 1; }
  start_db "$t/data" "$t/run" "$t/db.pid"
  mariadb --no-defaults -S "$t/run/mysql.sock" -uroot -e "CREATE DATABASE wordpress CHARACTER SET utf8mb4"
  make_site "$t/site"
  port=$(free_port)
  serve "$t/site" "$port" "$t/php.pid" "$t/php.log" KEYWARD_WP_DB_SOCKET="$t/run/mysql.sock"
  sleep 0.5; record_workers "$t/php.pid"
  wait_http "http://127.0.0.1:$port/wp-admin/install.php" 30
  local pw; pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  curl -fsS -o "$t/install.html" "http://127.0.0.1:$port/wp-admin/install.php?step=2" \
    --data-urlencode "weblog_title=Keyward test site" --data-urlencode "user_name=admin" \
    --data-urlencode "admin_password=$pw" --data-urlencode "admin_password2=$pw" --data-urlencode "pw_weak=1" \
    --data-urlencode "admin_email=admin@example.org" --data-urlencode "blog_public=0" --data-urlencode "language="
  grep -q "<h1>Success!</h1>" "$t/install.html" || { echo "the WordPress install did not succeed:" >&2; sed 's/<[^>]*>//g' "$t/install.html" | grep -v '^\s*$' | tail -10 >&2; exit 1; }
  KEYWARD_WP_SITE="$t/site" KEYWARD_WP_DB_SOCKET="$t/run/mysql.sock" KEYWARD_WP_URL="http://127.0.0.1:$port" \
    php "$files/seed.php" setup
  stop_pid "$t/php.pid"; for f in "$t"/php.pid.w*; do stop_pid "$f"; done
  stop_pid "$t/db.pid"
  tar -C "$t" -czf "$cache.tmp.$$" data
  mv "$cache.tmp.$$" "$cache"
  rm -rf "$t"; trap - EXIT
}

start() {
  local run=$1 d
  mkdir -p "$run"
  install
  d="$run/wordpress"
  rm -rf "$d"; mkdir -p "$d/run"
  tar -C "$d" -xzf "$(cache_file)"
  start_db "$d/data" "$d/run" "$run/wordpress-db.pid"
  make_site "$d/site"
  local db="KEYWARD_WP_DB_SOCKET=$d/run/mysql.sock" p1 p2 p3
  p1=$(free_port); p2=$(free_port); p3=$(free_port)
  serve "$d/site" "$p1" "$run/wordpress-main.pid" "$d/main.log" "$db"
  serve "$d/site" "$p2" "$run/wordpress-plain.pid" "$d/plain.log" "$db" KEYWARD_WP_PLAIN_PERMALINKS=1 KEYWARD_WP_REST_FOR_USERS_ONLY=1
  serve "$d/site" "$p3" "$run/wordpress-production.pid" "$d/production.log" "$db" KEYWARD_WP_ENVIRONMENT=production
  for p in "$p1" "$p2" "$p3"; do
    wait_http "http://127.0.0.1:$p/wp-login.php" 30 || { tail -20 "$d"/*.log >&2; exit 1; }
  done
  for n in main plain production; do record_workers "$run/wordpress-$n.pid"; done
  local admin_pw
  admin_pw=$(env KEYWARD_WP_SITE="$d/site" "$db" KEYWARD_WP_URL="http://127.0.0.1:$p1" php "$files/seed.php" admin-password)
  # The administrator's application password is a test fixture of this run only: it lives in
  # RUN_DIR (deleted after the run), never in the cache.
  umask 077
  cat > "$run/wordpress.env" <<ENV
export KEYWARD_TEST_WORDPRESS_URL=http://127.0.0.1:$p1
export KEYWARD_TEST_WORDPRESS_PLAIN_URL=http://127.0.0.1:$p2
export KEYWARD_TEST_WORDPRESS_PRODUCTION_URL=http://127.0.0.1:$p3
export KEYWARD_TEST_WORDPRESS_ADMIN=admin
export KEYWARD_TEST_WORDPRESS_ADMIN_PASSWORD='$admin_pw'
export KEYWARD_TEST_WORDPRESS_DB_SOCKET=$d/run/mysql.sock
ENV
  echo "WordPress $(wp_version) up on 127.0.0.1:$p1 (plain permalinks, REST for users only on :$p2; production on :$p3)"
}

stop() {
  local run=$1 f
  for f in "$run"/wordpress-main.pid* "$run"/wordpress-plain.pid* "$run"/wordpress-production.pid*; do
    [ -e "$f" ] && stop_pid "$f"
  done
  stop_pid "$run/wordpress-db.pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?run dir}" ;;
  stop) stop "${2:?run dir}" ;;
  *) echo "usage: $0 install | start RUN_DIR | stop RUN_DIR" >&2; exit 2 ;;
esac
