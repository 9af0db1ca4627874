# Sourced by scripts/e2e.sh and scripts/bench-app.sh: one headless desktop for the real app.
#   headless_start DIR        a free X display on Xvfb (1280x800x24), and DIR/{home,data,config,cache,run}
#   headless_run DIR PASS [NAME=VALUE ...] -- CMD ...
#                             CMD inside a private D-Bus session with a fresh gnome-keyring unlocked with
#                             PASS (started with no DISPLAY, so it can never pop up a window), HOME and
#                             XDG_* in DIR, the given variables set, then DISPLAY; nothing of the
#                             user's session is touched
#   headless_stop             stops Xvfb (call it from the caller's EXIT trap)
# With HEADLESS_DESKTOP=1, headless_run also starts, inside that session, the real desktop parts the
# background watch talks to: xfce4-panel with only its notification-area plugin (the
# org.kde.StatusNotifierWatcher and host the tray icon registers with) and dunst (the
# org.freedesktop.Notifications server, whose `dunstctl history` tells what it showed); CMD starts
# once both own their bus names. Their logs go to DIR/desktop-*.log.
headless_xvfb_pid=""
headless_display=""

headless_start() {
  local dir=$1 n
  for n in $(seq 90 140); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then headless_display=":$n"; break; fi
  done
  [ -n "$headless_display" ] || { echo "headless: no free X display" >&2; return 1; }
  Xvfb "$headless_display" -screen 0 1280x800x24 -nolisten tcp >"$dir/xvfb.log" 2>&1 &
  headless_xvfb_pid=$!
  for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X${headless_display#:}" ] && break; sleep 0.1; done
  kill -0 "$headless_xvfb_pid" 2>/dev/null || { echo "headless: Xvfb did not start" >&2; cat "$dir/xvfb.log" >&2; return 1; }
  mkdir -p "$dir/home" "$dir/data" "$dir/config" "$dir/cache" "$dir/run"
  chmod 700 "$dir/run"
  if [ "${HEADLESS_DESKTOP:-}" = 1 ]; then headless_desktop_config "$dir/config"; fi
}

headless_stop() {
  if [ -n "$headless_xvfb_pid" ]; then
    kill "$headless_xvfb_pid" 2>/dev/null || true
    wait "$headless_xvfb_pid" 2>/dev/null || true
    headless_xvfb_pid=""
  fi
}

# The panel: one small bar at the bottom with the notification area only (no first-start dialog,
# as its configuration is there). dunst: notifications time out at once and go to its history
# (an idle Xvfb user would otherwise keep them on screen for ever).
headless_desktop_config() {
  local config=$1
  mkdir -p "$config/xfce4/xfconf/xfce-perchannel-xml" "$config/dunst"
  cat >"$config/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=10;x=0;y=0"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="24"/>
      <property name="length" type="uint" value="20"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
XML
  cat >"$config/dunst/dunstrc" <<'INI'
[global]
    idle_threshold = 0
    history_length = 100
    sticky_history = yes
[urgency_low]
    timeout = 1
[urgency_normal]
    timeout = 1
[urgency_critical]
    timeout = 1
INI
}

headless_run() {
  local dir=$1 pass=$2
  shift 2
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  env -u DISPLAY -u DBUS_SESSION_BUS_ADDRESS \
    HOME="$dir/home" XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/run" \
    HEADLESS_PASS="$pass" HEADLESS_DISPLAY="$headless_display" HEADLESS_DIR="$dir" HEADLESS_DESKTOP="${HEADLESS_DESKTOP:-}" \
    "${vars[@]}" \
    dbus-run-session -- bash -c '
      set -e
      echo -n "$HEADLESS_PASS" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      unset HEADLESS_PASS
      export DISPLAY="$HEADLESS_DISPLAY"
      pids=()
      trap "kill \${pids[*]} 2>/dev/null || true" EXIT
      if [ "$HEADLESS_DESKTOP" = 1 ]; then
        xfce4-panel --disable-wm-check >"$HEADLESS_DIR/desktop-panel.log" 2>&1 &
        pids+=($!)
        dunst >"$HEADLESS_DIR/desktop-dunst.log" 2>&1 &
        pids+=($!)
        owned() { gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true; }
        for _ in $(seq 1 100); do owned org.kde.StatusNotifierWatcher && owned org.freedesktop.Notifications && break; sleep 0.2; done
        owned org.kde.StatusNotifierWatcher || { echo "headless: no StatusNotifierWatcher (xfce4-panel)" >&2; cat "$HEADLESS_DIR/desktop-panel.log" >&2; exit 1; }
        owned org.freedesktop.Notifications || { echo "headless: no notification server (dunst)" >&2; cat "$HEADLESS_DIR/desktop-dunst.log" >&2; exit 1; }
      fi
      "$@"
    ' headless "$@"
}
