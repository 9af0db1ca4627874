#!/usr/bin/env bash
# Installs the Debian packages Keyward's build and tests need, only when some are missing.
# Idempotent and quick when everything is present (one dpkg query, no apt-get update).
set -euo pipefail

PKGS=(
  build-essential pkg-config curl ca-certificates
  # the desktop app (Tauri 2 on WebKitGTK)
  libwebkit2gtk-4.1-dev librsvg2-dev
  # the tray icon of the background watch (the bundler looks for it too)
  libayatana-appindicator3-dev
  # headless runs, screenshots, end-to-end through WebDriver
  xvfb xauth imagemagick webkit2gtk-driver
  # the installed packages' checks (scripts/package-test.sh): window lookup, entry and metainfo validators
  xdotool desktop-file-utils appstream
  # the background watch's end-to-end test: a real tray host (xfce4-panel's notification area is an
  # org.kde.StatusNotifierWatcher), a real notification server (dunst, dunstctl), gdbus, and the
  # window manager's close message sent by ui/e2e/xwindow.py
  xfce4-panel dunst libglib2.0-bin python3-xlib
  # the real OS keyring for tests
  gnome-keyring libsecret-tools dbus
  # WordPress test server
  wordpress php8.2-cli php8.2-mysql mariadb-server
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
