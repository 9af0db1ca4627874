#!/usr/bin/env bash
# Renders Keyward's icon (icons/keyward.svg, drawn by hand) to every file a bundle needs:
# RGBA PNGs for Linux and the window, icon.ico for Windows, icon.icns for macOS.
# The results are committed, so a plain build never needs this; run it after editing the SVG.
# Needs rsvg-convert (Debian: librsvg2-bin) and ImageMagick's convert.
set -euo pipefail
cd "$(dirname "$0")/../icons"
command -v rsvg-convert >/dev/null || { echo "icons.sh needs rsvg-convert (apt-get install librsvg2-bin)" >&2; exit 1; }
CONVERT=/usr/bin/convert

render() { # SIZE OUT
  rsvg-convert -w "$1" -h "$1" keyward.svg -o "$2.tmp.png"
  # PNG32: always RGBA (Tauri refuses RGB or palette PNGs).
  "$CONVERT" "$2.tmp.png" -define png:color-type=6 "PNG32:$2"
  rm -f "$2.tmp.png"
}

render 32 32x32.png
render 64 64x64.png
render 128 128x128.png
render 256 128x128@2x.png
render 512 icon.png

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in 16 24 32 48 64 128 256 512 1024; do render "$s" "$tmp/$s.png"; done
"$CONVERT" "$tmp"/16.png "$tmp"/24.png "$tmp"/32.png "$tmp"/48.png "$tmp"/64.png "$tmp"/256.png icon.ico

# ICNS: the magic, the total length, then one (type, length, PNG) entry per size.
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
entries = [(b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512), (b"ic10", 1024)]
body = b""
for kind, size in entries:
    path = f"{d}/{size}.png"
    data = open(path, "rb").read()
    body += kind + struct.pack(">I", len(data) + 8) + data
open("icon.icns", "wb").write(b"icns" + struct.pack(">I", len(body) + 8) + body)
PY
echo "icons written to $(pwd)"
