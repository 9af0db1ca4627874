# Sourced by the Makefile's scripts: where slow things are cached between runs on this machine.
# KEYWARD_CACHE survives between runs (CI's clean clones included); nothing in it is a secret.
export KEYWARD_CACHE="${KEYWARD_CACHE:-$HOME/.cache/keyward}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$KEYWARD_CACHE/target}"
export KEYWARD_VENVS="$KEYWARD_CACHE/venvs"
export KEYWARD_TOOLS="$KEYWARD_CACHE/tools"
mkdir -p "$KEYWARD_CACHE" "$KEYWARD_VENVS" "$KEYWARD_TOOLS"
export PATH="$KEYWARD_TOOLS/bin:$HOME/.cargo/bin:$PATH"

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until URL answers with HTTP 200 (or gives up after $2 seconds, default 120).
wait_http() {
  local url=$1 limit=${2:-120} i=0
  until curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -ge "$limit" ]; then echo "gave up waiting for $url" >&2; return 1; fi
    sleep 1
  done
}

# Stops the process whose PID is in file $1 (SIGTERM, then SIGKILL after 15 s).
stop_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
