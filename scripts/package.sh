#!/usr/bin/env bash
# `make package`: builds the release app and the `keyward` CLI, and bundles both into a .deb and
# an .rpm (Tauri's bundler, offline) with the desktop entry, the icons at every size and the
# AppStream metainfo. Prints the packages' paths, one per line, last.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
bash "$here/scripts/system-deps.sh"
bash "$here/scripts/npm-ci.sh" "$here"
bash "$here/scripts/ui-deps.sh"
bash "$here/scripts/ui-build.sh"

(cd "$here" && cargo build -q --locked --release --bin keyward)
cli="$CARGO_TARGET_DIR/release/keyward"

# Files the bundler adds beside the app: the CLI on PATH, the metainfo, and the icon sizes the
# bundler does not install itself (it installs those of tauri.conf.json: 32, 128, 256, 512).
files="{\"/usr/bin/keyward\": \"$cli\", \"/usr/share/metainfo/org.keyward.app.metainfo.xml\": \"$here/packaging/org.keyward.app.metainfo.xml\", \"/usr/share/icons/hicolor/64x64/apps/keyward-app.png\": \"$here/icons/64x64.png\", \"/usr/share/icons/hicolor/scalable/apps/keyward-app.svg\": \"$here/icons/keyward.svg\"}"
# (With the tray-icon feature the bundler makes the .deb depend on libayatana-appindicator3-1 itself.)
config="{\"bundle\": {\"linux\": {\"deb\": {\"files\": $files, \"section\": \"utils\"}, \"rpm\": {\"files\": $files}}}}"

(cd "$here/src-tauri" && npx --prefix "$here/ui" tauri build --ci --bundles deb,rpm --config "$config" -- --locked) \
  >"${TMPDIR:-/tmp}/keyward-package.log" 2>&1 || { tail -40 "${TMPDIR:-/tmp}/keyward-package.log" >&2; exit 1; }
ls "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb "$CARGO_TARGET_DIR"/release/bundle/rpm/*.rpm
